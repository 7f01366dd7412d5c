"""Layout pieces every view shares: measured labels (context), heatmap panels, legends and
colour bars, head placement, and the frame (title, caption, margins, fitting a width).
Pure geometry: no I/O, no SVG strings."""
