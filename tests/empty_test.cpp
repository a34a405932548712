// Keeps a test binary linkable while its folder is empty.
