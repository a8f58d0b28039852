package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;

/**
 * {@code restore --owner USER[:GROUP]}: who the restored data directory belongs to. Without
 * GROUP, the group named like the user when there is one (Debian's mysql:mysql), else the group
 * stays the one of the user strata runs as. Only root can give files to another user, so this is
 * resolved and checked before anything is written, and applied once the restore is complete.
 */
public record TargetOwner(String spec, UserPrincipal user, GroupPrincipal group) {

    /** Resolves {@code spec}; usage errors for an unknown user or group, or when strata cannot chown (not root). */
    public static TargetOwner parse(String spec) {
        int colon = spec.indexOf(':');
        String userName = colon < 0 ? spec : spec.substring(0, colon);
        String groupName = colon < 0 ? null : spec.substring(colon + 1);
        if (userName.isEmpty() || groupName != null && groupName.isEmpty()) {
            throw new StrataException(ErrorCode.USAGE, "--owner " + spec + " is not USER or USER:GROUP", null);
        }
        UserPrincipalLookupService names = FileSystems.getDefault().getUserPrincipalLookupService();
        UserPrincipal user;
        GroupPrincipal group = null;
        try {
            user = names.lookupPrincipalByName(userName);
        } catch (UserPrincipalNotFoundException e) {
            throw new StrataException(ErrorCode.USAGE, "--owner " + spec + ": there is no user " + userName + " on this host", null);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.USAGE, "--owner " + spec + ": cannot look up the user " + userName + ": " + e.getMessage(), null, e);
        }
        try {
            group = names.lookupPrincipalByGroupName(groupName != null ? groupName : userName);
        } catch (UserPrincipalNotFoundException e) {
            if (groupName != null) {
                throw new StrataException(ErrorCode.USAGE, "--owner " + spec + ": there is no group " + groupName + " on this host", null);
            }
        } catch (IOException e) {
            throw new StrataException(ErrorCode.USAGE, "--owner " + spec + ": cannot look up the group: " + e.getMessage(), null, e);
        }
        String me = System.getProperty("user.name");
        if (!"root".equals(me) && !userName.equals(me)) {
            throw new StrataException(ErrorCode.USAGE, "--owner " + spec + ": only root can give the restored files to another user, and strata runs as " + me,
                    "run the restore as root, or leave out --owner: the files then belong to " + me);
        }
        return new TargetOwner(spec, user, group);
    }

    /** Gives every file and directory under {@code target} (itself included) to this owner; symbolic links are not followed. */
    public void apply(Path target) {
        try {
            Files.walkFileTree(target, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    chown(dir);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    chown(file);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot give the restored files in " + target + " to " + spec + ": " + e.getMessage(), null, e);
        }
    }

    private void chown(Path p) throws IOException {
        PosixFileAttributeView v = Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        v.setOwner(user);
        if (group != null) {
            v.setGroup(group);
        }
    }

    /** "mysql:mysql", or the user alone when the group was left as it was. */
    public String describe() {
        return user.getName() + (group == null ? "" : ":" + group.getName());
    }
}
