package render

// LinePlot is linePlot, for the tests to read the plot's axes and legend.
var LinePlot = linePlot

// Stretches is stretches, for the tests to see where lines are cut.
var Stretches = stretches
