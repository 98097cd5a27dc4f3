package io.mirrorball.store;

import io.mirrorball.oci.RepositoryName;

/** An upload in progress: its id, the repository it belongs to, and how many bytes it holds. */
public record UploadSession(String uuid, RepositoryName name, long size) {
}
