"""What a learner and a lecturer meet in the notebooks.

    exercises  the exercises and their checker (nbgrader-compatible)
    student    the student edition: solutions replaced by placeholders
    yours      collect(): a learner's passing functions, read from their own notebooks
    panel      the training panel (TrainingPanel): sliders, Train, Stop, live curves; it draws
               and listens
    training_run  the panel's runs on a background thread, Stop, Kernel -> Interrupt (no widget)
    pad        the drawing pad (DrawingPad): draw a digit, see what the network reads
    viz        matplotlib pictures: curves, digits, filters, feature maps, confusion matrix
    diagrams   drawn figures of the series (sliding windows, shapes tables)

May import: everything below it (lenet.utils, nn, data, paper1998, training).
"""
