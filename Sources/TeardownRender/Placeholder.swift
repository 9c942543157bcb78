// TeardownRender
