"""Sphinx configuration of the course website: read by ``python -m coursetools.site``
(``make site``), which stages this folder, the executed lesson notebooks, README.md and the
generated pages into a build folder and runs Sphinx on it.

Everything here serves one constraint: the built site must work opened from disk (a USB stick,
``file://``, no server) on a machine without network. So nothing is executed, nothing is loaded
from a CDN (MathJax 2 comes from the ``jupyter-server-mathjax`` wheel, copied in by the driver),
and every link is relative.
"""

from __future__ import annotations

project = "Why is my MNIST model wrong?"
author = "the course's authors"
copyright = "the course's authors, MIT licence"
html_title = project

extensions = [
    "myst_nb",  # brings myst_parser; sphinx.ext.mathjax is built in
    # each figure's <img alt> from its output's metadata (helpers.plots.show), which myst-nb
    # itself does not read
    "coursetools.alt_text",
]

# Generated fragments (*.inc.md) are included by pages, README.md by the index and the workshop
# guide, and _extra/ holds the .ipynb downloads: none of them is a page of its own.
exclude_patterns = ["_extra", "README.md", "*.inc.md", "**/*.inc.md", "**/.ipynb_checkpoints"]
templates_path = ["_templates"]

# ----------------------------------------------------------------------------- notebooks
# The committed notebooks already hold the workshop run's outputs: never re-execute them
# (no kernel, no TensorFlow, seconds instead of minutes).
nb_execution_mode = "off"
nb_merge_streams = True  # one block of printed text per cell, as JupyterLab shows it
# Widgets would pull require.js and the widget manager from a CDN; the lessons have none.
nb_ipywidgets_js: dict = {}
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# ----------------------------------------------------------------------------- math
# MathJax 2.7 from the jupyter-server-mathjax wheel, copied to _static/mathjax by the driver
# (a relative mathjax_path is relative to _static/). Sphinx writes math as \( \) and \[ \]
# spans, which are tex2jax's defaults. myst's MathJax override targets MathJax 3/4 and would
# add a window.MathJax block that MathJax 2 misreads, so it is off.
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
myst_update_mathjax = False
mathjax2_config = {
    "tex2jax": {
        "inlineMath": [["\\(", "\\)"]],
        "displayMath": [["\\[", "\\]"]],
        "processEscapes": True,
    },
    # The wheel ships only the STIX-Web web fonts: without this MathJax 2 looks for its TeX
    # fonts, falls back to image fonts and shows boxes.
    "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web"},
    "SVG": {"font": "STIX-Web"},
    "messageStyle": "none",
}

# ----------------------------------------------------------------------------- HTML
html_theme = "pydata_sphinx_theme"
html_static_path: list[str] = []
html_extra_path = ["_extra"]  # notebooks/<lesson>.ipynb: the download links
html_copy_source = False  # the .ipynb downloads are the sources; no second copy in _sources/
html_show_sourcelink = False
# Search-result summaries are fetched with fetch(), which browsers refuse on file:// pages
# (one console error per result): titles only, so search works the same from a USB stick.
html_show_search_summary = False
html_last_updated_fmt = None
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 4,
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "show_nav_level": 1,
    "icon_links": [],
    "article_header_end": ["download-notebook"],
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_center": [],
    "footer_end": [],
    "search_bar_text": "Search the course…",
}
# The figures are matplotlib PNGs on white: a dark page around them would glare (the reader
# can still switch). Also spares the theme's "invalid theme mode" console error on file://.
html_context = {"default_mode": "light"}
html_sidebars = {"index": [], "ledger": [], "workshop": []}
