"""Dutch dates and numbers: "1 januari 2015", "20.000", "92,5".

Django's Dutch formats, except the short date: Django writes "1-1-2015" beside
"1 januari 2015" on the same page; here the short form is the same style with
the month abbreviated ("1 jan 2015"), so a page has one date style. Formats not
named here (input formats) are Django's Dutch ones.
"""

DATE_FORMAT = "j F Y"  # 1 januari 2015
TIME_FORMAT = "H:i"  # 17:30
DATETIME_FORMAT = "j F Y H:i"  # 1 januari 2015 17:30
YEAR_MONTH_FORMAT = "F Y"  # januari 2015
MONTH_DAY_FORMAT = "j F"  # 1 januari
SHORT_DATE_FORMAT = "j b Y"  # 1 jan 2015 ("M" would write "Jan")
SHORT_DATETIME_FORMAT = "j b Y H:i"  # 1 jan 2015 17:30
FIRST_DAY_OF_WEEK = 1  # Monday
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
