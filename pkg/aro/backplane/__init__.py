"""The SRE backplane (backplane-api's paths and objects; docs/backplane.md): which cluster a backplane
cluster id names and whether it may be entered (``target``), the managed-scripts catalog (``scripts``)
and managed jobs (``jobs``). The HTTP side is ``aro.frontend.backplane``; jobs run in the backend
(``aro.backend.backplanejobs``)."""
