"""The GridOne field app (Flet): repair crews, meter technicians and customers.

``mobile.main`` is the composition root; ``state/`` holds plain observable screen state,
``views/`` one screen each, ``components/`` small reusable pieces and ``services/`` the
adapters to the device (storage, camera, GPS) and to the sync engine in ``sync.client``.
"""
