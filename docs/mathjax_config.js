// Added to the site's MathJax configuration (docs/Doxyfile: MATHJAX_CODEFILE). No status box
// ("Loading [MathJax]/...", "Typesetting math: 100%") in the corner of every page.
MathJax.Hub.Config({ messageStyle: "none" });
