"""What the overview, block, agreement, scorecard and province pages show: figures
read, charts built.

Each `*_context` function reads the stored scores, aggregates and snapshots in a
fixed handful of queries (whatever the number of municipalities) and turns them
into `Chart`/`MapFigure` objects and headline numbers for the templates. Shares are
stored as fractions (0–1) by scoring.figures and shown here as percentages.

One module per page (overview, block, agreement) plus the spread charts several
pages share (spreads), the monthly trends (trends) and the labels (labels). The
names below are the package's public ones (what the views and tests import);
they live in, and are patched in, those modules.
"""

from scoring.dashboards.agreement import MissingBlocks, agreement_context
from scoring.dashboards.block import block_context, block_province_charts
from scoring.dashboards.labels import (
    SIZE_CLASS_ORDER,
    as_percent,
    line_labels,
    size_class_label,
)
from scoring.dashboards.overview import (
    KEY_BLOCKS,
    STATUS_ORDER,
    Compared,
    Headline,
    compared_figures,
    overview_context,
)
from scoring.dashboards.spreads import (
    benchmark_spread_chart,
    grouped_scores,
    overview_spread_context,
    province_spread_chart,
    size_class_spread_chart,
)
from scoring.dashboards.trends import snapshot_trend

__all__ = [
    "KEY_BLOCKS",
    "SIZE_CLASS_ORDER",
    "STATUS_ORDER",
    "Compared",
    "Headline",
    "MissingBlocks",
    "agreement_context",
    "as_percent",
    "benchmark_spread_chart",
    "block_context",
    "block_province_charts",
    "compared_figures",
    "grouped_scores",
    "line_labels",
    "overview_context",
    "overview_spread_context",
    "province_spread_chart",
    "size_class_label",
    "size_class_spread_chart",
    "snapshot_trend",
]
