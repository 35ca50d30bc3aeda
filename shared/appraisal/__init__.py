"""Performance appraisal: scorecard figures (pure)."""
