# fuzz/: (being built; see its issue)
