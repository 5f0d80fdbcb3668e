/* harness: `gapcheck verify [INC-ID...]`, incident verification (hr_verify_*).
 *
 * An incident is a folder cases/INC-XXX/ (found by its name, no list to edit)
 * holding INCIDENT.md, CLAIMS.md, its *.case files and reinject.patch. For
 * each, verify (1) runs its cases on the engine as it is: every result must
 * pass (the fix holds); (2) applies the patch to a scratch copy of engine/
 * (never the tree), builds that engine once, runs the same cases on it and
 * records which case caught the bug in which mode: every mode the patch's
 * `Affects:` line names needs at least one catch; (3) collects the incident's
 * claims, which live only in its case data, from the fix run: each must have
 * been measured and held. The verdict is decided here, once, and written as
 * one JSON file per incident (schema gapcheck-verdict, harness/README.md);
 * make check, the reports and the CI gate only render it. */
#ifndef GAPCHECK_HARNESS_VERIFY_H
#define GAPCHECK_HARNESS_VERIFY_H

#define HR_VERDICT_SCHEMA_VERSION 1

/* argv[1] is "verify". Returns 0 when every incident is VERIFIED, 1 when one
 * is not (or one could not be verified), 2 on a usage error. Prints one line
 * per incident and the closing line "N passed, N failed" (N incidents). */
int hr_verify_main(int argc, char **argv);

#endif
