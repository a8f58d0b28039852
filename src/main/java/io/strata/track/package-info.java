/**
 * The redo tracker daemon, {@code strata track}: follows the server's redo log and stores which
 * pages change, as change sets in the repository, so that an incremental backup
 * ({@code --method tracked}) reads only those pages.
 *
 * <p>{@link io.strata.track.TrackRun} runs the loop and records gaps, and
 * {@link io.strata.track.ServerBackups} says where to begin and which change sets no incremental
 * can need any more. The tracker reads the log with
 * {@code redo} ({@link io.strata.redo.LiveLog}, {@link io.strata.redo.PageCollector}) and stores
 * through {@code repo} ({@link io.strata.repo.Tracking}, whose change sets
 * {@link io.strata.repo.ChangeSetFormat} describes). It does not depend on {@code backup},
 * {@code restore} or {@code archive}; it reports through a line consumer the command gives it.
 */
package io.strata.track;
