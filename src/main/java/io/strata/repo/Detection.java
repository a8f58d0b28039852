package io.strata.repo;

/**
 * What finding the changed pages of an incremental or differential cost (manifest field
 * {@code detection}; the method and the reason it was chosen are the manifest's {@code method} and
 * {@code note}).
 *
 * @param pagesRead      InnoDB pages read from the server's files (whole files, scans and single pages)
 * @param pagesInFiles   pages in all InnoDB files of the backup: what a full scan reads
 * @param pagesNamed     distinct pages the redo log or the change sets named (redo, tracked), else null
 * @param redoBytesRead  bytes of the server's live redo log parsed to find changes
 * @param changeSetsRead change sets of {@code strata track} read
 * @param filesScanned   InnoDB files read in full (stored whole, or scanned for changed pages)
 */
public record Detection(long pagesRead, long pagesInFiles, Long pagesNamed, long redoBytesRead, int changeSetsRead, int filesScanned) {
}
