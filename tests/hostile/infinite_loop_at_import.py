# HOSTILE: hangs while being imported.
while True:
    pass
