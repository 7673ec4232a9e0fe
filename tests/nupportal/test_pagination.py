"""The one page-cutting rule: any page number or page size in a URL gives a page."""

import pytest

from nupportal.pagination import MAX_PER_PAGE, paginate


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (None, 1),
        ("", 1),
        ("2", 2),
        ("x", 1),
        ("2.5", 1),
        ("0", 1),
        ("-3", 1),
        ("4", 4),
        ("99", 4),
    ],
)
def test_a_page_number_from_the_url_always_gives_a_page(number, expected):
    paginator, page = paginate(list(range(10)), 3, number)
    assert paginator.num_pages == 4
    assert page.number == expected


@pytest.mark.parametrize(
    ("per_page", "expected"),
    [("-5", 1), ("0", 1), ("nonsense", 1), ("7", 7), (str(10**9), MAX_PER_PAGE)],
)
def test_the_page_size_stays_within_bounds(per_page, expected):
    paginator, page = paginate(list(range(1000)), per_page, "1")
    assert paginator.per_page == expected
    assert len(page.object_list) == expected


def test_an_empty_list_has_one_empty_page():
    paginator, page = paginate([], 50, "3")
    assert page.number == 1
    assert list(page.object_list) == []
