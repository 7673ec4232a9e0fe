"""English dates and numbers as in the UK: "1 January 2015", 24-hour times.

Django's default English writes "Jan. 1, 2015" and "5 p.m." (a sentence that ends
after it gets "p.m.."); en_GB's short date "01/02/2015" reads as 2 January in the
US. Day–month-name–year is unambiguous to every reader. Formats not named here
(input formats) are Django's English ones.
"""

DATE_FORMAT = "j F Y"  # 1 January 2015
TIME_FORMAT = "H:i"  # 17:30
DATETIME_FORMAT = "j F Y, H:i"  # 1 January 2015, 17:30
YEAR_MONTH_FORMAT = "F Y"  # January 2015
MONTH_DAY_FORMAT = "j F"  # 1 January
# The same style, with the month abbreviated: one date style on every page.
SHORT_DATE_FORMAT = "j M Y"  # 1 Jan 2015
SHORT_DATETIME_FORMAT = "j M Y, H:i"  # 1 Jan 2015, 17:30
FIRST_DAY_OF_WEEK = 1  # Monday
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
