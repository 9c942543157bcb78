// TeardownCapture
