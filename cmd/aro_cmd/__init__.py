"""Process entry points (installed as the `aro_cmd` package): parse flags and configuration, then call
into the `aro` library. No logic lives here."""
