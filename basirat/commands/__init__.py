"""The ``basirat`` commands, one module per group or theme; ``basirat.cli`` adds them to its group."""
