"""A monthly bill as a PDF (fpdf2), in the user's language, with the fonts the app ships
(DejaVu Sans for Latin, digits and symbols; Droid Sans Fallback for Chinese)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from mobile.i18n import fmt_time, t
from shared.billing.bill import Bill
from shared.money import format_fen

FONTS = Path(__file__).resolve().parents[1] / "assets" / "fonts"


def render(bill: Bill, lang: str, fonts: Path = FONTS) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"{t('bill', lang)} {bill.account_no} {bill.month}")
    pdf.set_creator("GridOne")
    pdf.add_font("latin", fname=str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("cjk", fname=str(fonts / "DroidSansFallbackFull.ttf"))
    pdf.set_fallback_fonts(["cjk"])
    pdf.add_page()
    pdf.set_font("latin", size=18)
    pdf.cell(0, 12, f"{t('bill', lang)} · {bill.month}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("latin", size=11)
    for label_key, value in (("account", bill.account_no), ("customer", bill.name),
                             ("address", bill.address)):
        pdf.cell(45, 7, t(label_key, lang))
        pdf.cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    def row(label: str, value: str, *, bold: bool = False) -> None:
        pdf.set_font("latin", size=12 if bold else 11)
        pdf.cell(110, 8, label, border="B")
        pdf.cell(0, 8, value, border="B", align="R", new_x="LMARGIN", new_y="NEXT")

    row(t("bill_opening", lang), format_fen(bill.opening_fen))
    row(t("bill_usage", lang), f"{bill.usage_kwh:.2f} kWh")
    for tier in bill.tiers:
        row("    " + t("bill_tier_line", lang, n=tier.tier, kwh=f"{tier.kwh:.2f}",
                        price=tier.price), format_fen(tier.cost_fen))
    row(t("bill_charges", lang), format_fen(bill.charges_fen))
    row(t("bill_recharges", lang), format_fen(bill.recharges_fen))
    if bill.other_fen:
        row(t("bill_other", lang), format_fen(bill.other_fen))
    row(t("bill_closing", lang), format_fen(bill.closing_fen), bold=True)
    pdf.ln(4)
    pdf.set_font("latin", size=10)
    if not bill.lines:
        pdf.cell(0, 7, t("bill_none", lang), new_x="LMARGIN", new_y="NEXT")
    for line in bill.lines:
        what = t(f"kind_{line.kind}", lang) + (f" · {line.receipt_no}" if line.receipt_no
                                               else "")
        pdf.cell(30, 6, fmt_time(line.at, lang))
        pdf.cell(80, 6, what)
        pdf.cell(35, 6, ("+" if line.amount_fen > 0 else "") + format_fen(line.amount_fen),
                 align="R")
        pdf.cell(0, 6, format_fen(line.balance_after_fen), align="R", new_x="LMARGIN",
                 new_y="NEXT")
    return bytes(pdf.output())
