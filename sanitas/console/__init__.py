"""The Sanitas web console: static HTML, CSS and JavaScript modules served by the API process."""
