/* harness case module: what a run of a case yields as plain values (the
 * figures it measured, the claims it checked) and the size limits of a
 * case's texts. No parser and no engine type: the runner's result model
 * (harness/runner/result.h) stores and reports these without seeing how a
 * case is read. case.h, the module's contract, includes this header. */
#ifndef GAPCHECK_HARNESS_FIGURES_H
#define GAPCHECK_HARNESS_FIGURES_H

#define HC_ID_MAX 128
#define HC_TEXT_MAX 256
#define HC_TAGS_MAX 16
#define HC_REQUIRES_MAX 8
#define HC_METRICS_MAX 16
#define HC_CLAIMS_MAX 8
#define HC_MESSAGE_MAX 1024
#define HC_PIDS_MAX 32

/* A figure measured while running a case (e.g. handoff_ms). */
typedef struct hc_metric {
    char name[64];
    char unit[16];
    double value;                    /* median over the case's tasks/iterations */
} hc_metric;

/* A claim of the incident, checked as a limit against a measured metric. */
typedef struct hc_claim {
    char text[HC_TEXT_MAX];          /* "100 MB handed to a worker in 48 ms" */
    char metric[64];                 /* which hc_metric it is checked against */
    char unit[16];
    double claimed;                  /* the limit */
    double measured;
    int holds;                       /* measured <= claimed */
} hc_claim;

#endif
