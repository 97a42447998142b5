import gc

from pipelines.collector import freeze_long_lived, long_lived_frozen


def test_freeze_only_inside_a_run_and_everything_restored_after():
    thresholds = gc.get_threshold()
    before = gc.get_freeze_count()
    freeze_long_lived()  # outside a run: nothing
    assert gc.get_freeze_count() == before
    held = [[i] for i in range(1000)]
    with long_lived_frozen():
        assert gc.get_threshold() == (10_000, 10, 10)
        freeze_long_lived()
        assert gc.get_freeze_count() >= before + len(held)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds
    freeze_long_lived()  # after the run: nothing again
    assert gc.get_freeze_count() == 0


def test_restored_when_the_run_fails():
    thresholds = gc.get_threshold()
    try:
        with long_lived_frozen():
            freeze_long_lived()
            raise RuntimeError("a step failed")
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds
