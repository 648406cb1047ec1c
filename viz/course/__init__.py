"""The course's application, built on the engine and the drawing package.

Not "drawing a graph" but what the lecture does with it:

    lecture.py  the lecture's example f = 2·(x·y + max(z, w)) at (3, -4, 2, -1): its
                graph, its PyTorch twin, its pictures and its backprop player
    demo.py     the main job (``tensorgraph demo``): data split, grid search over two
                linear classifiers, the test split once, and an HTML report
    plots.py    the classifier figures (matplotlib): loss curves, templates, decision
                regions, SVM vs. softmax, an image as the computer sees it, a model's
                decision boundary
    moons.py    micrograd's demo: a 2-16-16-1 MLP learns the two moons

Nothing is imported here, so ``import viz.course.lecture`` does not load matplotlib.
"""
