"""Production telemetry of a target: its REPORT lines (Logs Insights), its metrics, and the finding."""
