# reports/: (being built; see its issue)
