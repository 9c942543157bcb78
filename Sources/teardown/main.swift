print("teardown: not built yet")
