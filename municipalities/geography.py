"""The map's projection: WGS84 lon/lat to SVG user units, and SVG path data for outlines.

Pure functions, used by `build_reference_data` to turn the CBS boundaries into the
`Municipality.map_path` strings; templates draw them inside an `<svg viewBox=MAP_VIEW_BOX>`.

Projection: equirectangular with the x axis scaled by cos(52.2°), the latitude of the
middle of the country. Over the 2.9° of latitude the Netherlands spans this distorts
shapes by under 3 %, which is invisible at dashboard scale, and it needs no library.
The frame is fixed (not fitted to the data) so a rebuilt boundaries file keeps the
same viewBox.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

# The frame around the Netherlands, in degrees (the data spans 3.36–7.23 E, 50.75–53.55 N).
LON_MIN = 3.30
LON_MAX = 7.30
LAT_MIN = 50.70
LAT_MAX = 53.60
REFERENCE_LATITUDE = 52.2

MAP_WIDTH = 1000
_X_FACTOR = math.cos(math.radians(REFERENCE_LATITUDE))
# SVG units per projected degree.
_SCALE = MAP_WIDTH / ((LON_MAX - LON_MIN) * _X_FACTOR)
MAP_HEIGHT = math.ceil((LAT_MAX - LAT_MIN) * _SCALE)

# The viewBox of every map of municipalities: "0 0 1000 1183".
MAP_VIEW_BOX = f"0 0 {MAP_WIDTH} {MAP_HEIGHT}"

Position = Sequence[float]
Ring = Sequence[Position]


def project(lon: float, lat: float) -> tuple[float, float]:
    """SVG coordinates of a WGS84 point, rounded to 0.1 unit; y grows southwards."""
    x = (lon - LON_MIN) * _X_FACTOR * _SCALE
    y = (LAT_MAX - lat) * _SCALE
    return round(x, 1), round(y, 1)


def _number(value: float) -> str:
    """Shortest text for a coordinate: '12', '12.5', '-0.3' (never '-0')."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def ring_path(ring: Ring) -> str:
    """Path data for one closed ring: 'M x y L x y … Z', repeated points dropped."""
    points: list[tuple[float, float]] = []
    for position in ring:
        point = project(position[0], position[1])
        if not points or point != points[-1]:
            points.append(point)
    # GeoJSON repeats the first position at the end; Z closes the ring instead.
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    if len(points) < 3:
        return ""  # collapsed to a dot or a line at this scale: nothing to draw
    first, *rest = points
    return (
        f"M{_number(first[0])} {_number(first[1])}L"
        + " ".join(f"{_number(x)} {_number(y)}" for x, y in rest)
        + "Z"
    )


def polygons_of(geometry: dict) -> Iterable[Sequence[Ring]]:
    """The polygons (outer ring, holes…) of a GeoJSON Polygon or MultiPolygon."""
    kind = geometry["type"]
    if kind == "Polygon":
        return [geometry["coordinates"]]
    if kind == "MultiPolygon":
        return geometry["coordinates"]
    raise ValueError(f"unsupported geometry type: {kind}")


def geometry_path(geometry: dict) -> str:
    """One SVG path `d` for a whole (Multi)Polygon; holes included, for fill-rule evenodd."""
    return "".join(
        ring_path(ring) for polygon in polygons_of(geometry) for ring in polygon
    )
