"""The one progress display: in place on a terminal, one line per milestone in a log, an open line ended first."""

import io

from ganeval.progress import Progress, draw_in_place, end_open_line


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_line_is_redrawn_in_place_and_ended_on_close():
    stream = Terminal()
    bar = Progress(10, "REAL", stream=stream)
    bar.update(10)
    assert stream.getvalue().startswith("\rREAL: 10/10 img [100%, ") and "\n" not in stream.getvalue()
    bar.milestone()  # on a terminal a milestone redraws the same line
    assert stream.getvalue().count("\r") == 2 and "\n" not in stream.getvalue()
    bar.close()
    assert stream.getvalue().endswith("\n") and stream.getvalue().count("\n") == 1


def test_in_a_log_only_milestones_write_one_plain_line_each():
    stream = io.StringIO()  # not a terminal: stderr redirected to a file
    bar = Progress(64.0, "train", unit="kimg", stream=stream, initial=16.0)
    bar.update(0.5, "lod 1.00, 8×8, 123.4 img/s")
    assert stream.getvalue() == ""
    bar.milestone()
    bar.update(0.5)
    bar.milestone()
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in stream.getvalue()
    assert lines[0].startswith("train: 16.5/64.0 kimg [ 26%, ") and lines[0].endswith("  lod 1.00, 8×8, 123.4 img/s")
    assert lines[1].startswith("train: 17.0/64.0 kimg [ 27%, ")


def test_disabled_shows_nothing():
    for stream in (io.StringIO(), Terminal()):
        bar = Progress(10, "REAL", stream=stream, enabled=False)
        bar.update(10)
        bar.milestone()
        bar.close()
        assert stream.getvalue() == ""


def test_the_eta_counts_from_the_work_done_before():
    bar = Progress(10_000, "images", stream=io.StringIO(), initial=9_000)
    bar.update(500)
    text = bar.text(bar.start + 5.0)  # 500 images in 5 s: 100 img/s, 500 left
    assert text == "images: 9,500/10,000 img [ 95%, 100 img/s, ETA 0:05]"


def test_end_open_line_ends_an_open_bar_once():
    stream = Terminal()
    Progress(None, "REAL", stream=stream).update(3)
    end_open_line()
    end_open_line()
    assert stream.getvalue().endswith("\n") and stream.getvalue().count("\n") == 1


def test_a_shorter_redraw_blanks_what_the_longer_one_left():
    stream = Terminal()
    draw_in_place(stream, "REAL: 1,000 img [1,234 img/s]")
    draw_in_place(stream, "REAL: 2,000 img [987 img/s]")
    end_open_line()
    draw_in_place(stream, "x")  # a new line: nothing to blank
    end_open_line()
    assert stream.getvalue() == ("\rREAL: 1,000 img [1,234 img/s]\rREAL: 2,000 img [987 img/s]  \n"
                                 "\rx\n")


def test_an_eta_given_replaces_the_constant_rate_one():
    bar = Progress(64.0, "train", unit="kimg", stream=io.StringIO(), initial=16.0, eta=lambda count: 125.0 + count)
    bar.update(1.0)
    assert bar.text(bar.start + 1.0) == "train: 17.0/64.0 kimg [ 27%, 1.00 kimg/s, ETA 2:22]"
