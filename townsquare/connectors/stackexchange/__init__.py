"""Stack Exchange data dumps: one site's Posts, Users, Comments, Votes and Badges XML files."""
