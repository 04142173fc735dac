"""Evidence exports for incident responders: bundle, graphml, gexf, stix, misp, html, pdf."""
