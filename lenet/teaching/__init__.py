"""What a learner and a lecturer meet in the notebooks.

    exercises  the exercises and their checker (nbgrader-compatible)
    student    the student edition: solutions replaced by placeholders
    yours      collect(): a learner's passing functions, read from their own notebooks
    widgets    the training panel and the drawing pad (they only draw and listen)
    viz        matplotlib pictures: curves, digits, filters, feature maps, confusion matrix
    diagrams   drawn figures of the series (sliding windows, shapes tables)

May import: everything below it (lenet.utils, nn, data, paper1998, training).
"""
