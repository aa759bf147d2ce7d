from nextmodel_catalog.latency import LatencyBook


def test_rolling_percentiles_and_error_rate() -> None:
    book = LatencyBook(window_seconds=60)
    for index in range(1, 101):
        book.add("m", ttft_ms=index, total_ms=index * 10, error=False, at=1000.0)
    for _ in range(25):
        book.add("m", ttft_ms=0, total_ms=5000, error=True, at=1000.0)
    summary = book.summary("m", now=1010.0)
    assert (summary.ttft_p50_ms, summary.ttft_p95_ms) == (51, 96)
    assert (summary.total_p50_ms, summary.total_p95_ms) == (510, 960)
    assert summary.error_rate == 0.2 and summary.samples == 125
    assert book.summary("m", now=2000.0) is None, "observations leave the window"
    assert book.summary("unknown") is None
