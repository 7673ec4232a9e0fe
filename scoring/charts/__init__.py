"""Server-rendered SVG charts: small pure functions, no JavaScript, no CDN.

Why our own templates and not pygal: every chart must be accessible (a <title> and
<desc> named by aria-labelledby, direct text labels on bars and lines, a table
alternative) and must pass a Content-Security-Policy without unsafe-inline. pygal
writes inline <style> blocks and relies on its JavaScript for labels and tooltips;
switching that off leaves an unlabelled picture. These few functions produce exactly
the markup we need: colours as SVG presentation attributes (allowed by the CSP; a
stylesheet can still override them, e.g. for print), CSS classes as hooks, and text
labels so that no value depends on colour alone.

Each function takes already-loaded values and returns a `Chart`: the SVG plus the
caption, a one-sentence summary and the rows of its table alternative. The wrapper
template `includes/chart.html` puts these in a <figure>.

drawing (palettes, `Chart`, number formats, the shared SVG parts), bars (bar
charts and histograms), lines (line charts with forecasts and deadlines),
distributions (box plots). Import from `scoring.charts`: the names below are its
public interface.
"""

from scoring.charts.bars import (
    Bar,
    Group,
    StackRow,
    bar_chart,
    grouped_bar_chart,
    histogram,
    stacked_bar_chart,
)
from scoring.charts.distributions import Box, box_plot
from scoring.charts.drawing import (
    BAR_FILL,
    BAR_STROKE,
    BLUES,
    FONT_PX,
    LINE_STYLES,
    NARROW_LABEL_CHARS,
    NARROW_WIDTH,
    STATUS_FILLS,
    STATUS_TEXT,
    WIDTH,
    Chart,
    Drawing,
    number,
    percent,
)
from scoring.charts.lines import (
    BAND_FILL,
    MARKER_COLOUR,
    PROJECTION_DASH,
    Marker,
    Projection,
    Series,
    line_chart,
)

__all__ = [
    "BAND_FILL",
    "BAR_FILL",
    "BAR_STROKE",
    "BLUES",
    "FONT_PX",
    "LINE_STYLES",
    "MARKER_COLOUR",
    "NARROW_LABEL_CHARS",
    "NARROW_WIDTH",
    "PROJECTION_DASH",
    "STATUS_FILLS",
    "STATUS_TEXT",
    "WIDTH",
    "Bar",
    "Box",
    "Chart",
    "Drawing",
    "Group",
    "Marker",
    "Projection",
    "Series",
    "StackRow",
    "bar_chart",
    "box_plot",
    "grouped_bar_chart",
    "histogram",
    "line_chart",
    "number",
    "percent",
    "stacked_bar_chart",
]
