package render

// LinePlot is linePlot, for the tests to read the plot's axes and legend.
var LinePlot = linePlot
