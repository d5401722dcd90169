"""The planner's screenshots in docs/figures/ (run: python docs/make_planner_shot.py).

Serves the shipped priors, opens the page in headless Chromium as a user would, moves
one control (pay_rate's 95% handle) and adds an event, then draws the serving frontier
of the chatbot-on-H20 scenario; each state is saved as a PNG.
"""

from pathlib import Path

from probmodel.planner.live import LivePage
from probmodel.planner.server import running
from probmodel.report.browser import Chromium

ROOT = Path(__file__).resolve().parents[1]
FIGS = ROOT / "docs" / "figures"
FILES = [ROOT / "priors" / n for n in ("deepseek-adjusted.toml", "deepseek-pay45.toml",
                                         "chatbot-h20-roofline.toml")]


def main() -> None:
    """Write docs/figures/planner.png and planner-frontier.png."""
    with running(FILES) as url, Chromium() as b:
        with LivePage(b, url + "?scenario=deepseek-adjusted", width=1400, height=1150) as pg:
            pg.wait("document.body.dataset.ready === '1'", 300)
            n = pg.answers()
            pg.set_control("pay_rate.p95", "0.7")
            pg.wait(f"Number(document.body.dataset.answers) > {n}", 120)
            pg.set_control("event", "margin > 20%")
            n = pg.answers()
            pg.click("event-add")
            pg.wait(f"Number(document.body.dataset.answers) > {n}", 120)
            (FIGS / "planner.png").write_bytes(pg.screenshot())
        with LivePage(b, url + "?scenario=chatbot-h20-roofline", width=1400, height=1150) as pg:
            pg.wait("document.body.dataset.ready === '1'", 300)
            pg.set_control("chips", "H20,H800,H200")
            pg.click("frontier-run")
            pg.wait("!!document.querySelector('#frontier-table tbody tr')", 600)
            pg.eval("window.scrollTo(0, document.getElementById('frontier-box')"
                    ".getBoundingClientRect().top + window.scrollY - 60)")
            (FIGS / "planner-frontier.png").write_bytes(pg.screenshot())
    print("wrote docs/figures/planner.png, docs/figures/planner-frontier.png")


if __name__ == "__main__":
    main()
