"""Name patterns shared by every route family (from the Re:infer schema)."""

PROJECT_PATTERN = r"^[A-Za-z0-9_.\-]{1,1024}$"
NAME_PATTERN = r"^[A-Za-z0-9_\-]{1,256}$"
SOURCE_ID_PATTERN = r"^[0-9a-f]{16}$"
COMMENT_ID_PATTERN = r"^[\w\x21-\x2e\x3a-\x40\x5b-\x60\x7b-\x7e]+$"  # plus max_length=1024
UUID_PATTERN = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
