namespace Tus.Stores;

/// <summary>Options of the quota wrapper (<see cref="LimitedStore"/>, <c>.WithQuota(...)</c>).</summary>
/// <remarks>At least one limit must be set. Sizes are bytes, as declared by the clients (<c>Upload-Length</c>) or, for
/// uploads whose length is deferred, as stored so far.</remarks>
public sealed class QuotaOptions
{
    /// <summary>
    /// The most bytes all uploads together may take; <see langword="null"/> for no total limit. An upload with a known
    /// length takes its whole length from the moment it is created; one whose length is deferred takes what it has stored.
    /// Default: <see langword="null"/>.
    /// </summary>
    public long? MaxTotalBytes { get; set; }

    /// <summary>
    /// Whether finished uploads count towards <see cref="MaxTotalBytes"/>. <see langword="true"/> caps the space the
    /// store holds; <see langword="false"/> caps only the space reserved by uploads still in progress (for a deployment
    /// that moves finished uploads elsewhere). Default: <see langword="true"/>.
    /// </summary>
    public bool CountFinishedUploads { get; set; } = true;

    /// <summary>The largest upload accepted, in bytes; <see langword="null"/> for no limit. Default: <see langword="null"/>.</summary>
    public long? MaxUploadBytes { get; set; }

    /// <summary>The most uploads that may be unfinished at once; <see langword="null"/> for no limit. Default: <see langword="null"/>.</summary>
    public int? MaxUnfinishedUploads { get; set; }

    /// <summary>
    /// When set, a request refused for lack of room first reclaims room from abandoned uploads: unfinished uploads with
    /// no write for at least this long, oldest first, skipping any whose lock is held. Finished uploads and uploads in
    /// progress are never deleted. <see langword="null"/> (the default) never deletes anything.
    /// </summary>
    /// <remarks>An upload's last write is known from this process's own requests; after a restart an upload not written
    /// since counts from its creation time. The wrapped store must offer termination or expiration to delete with.</remarks>
    public TimeSpan? ReclaimAfter { get; set; }

    /// <summary>
    /// For several instances sharing one storage: how often the accounting is rebuilt from the store's listing, so that
    /// each instance learns of the uploads the others created and removed. <see langword="null"/> (the default) rebuilds it
    /// only at start-up, which is exact for a single instance.
    /// </summary>
    public TimeSpan? ResyncInterval { get; set; }

    /// <summary>Checks the options.</summary>
    /// <returns>Every problem found, as messages naming the option; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxTotalBytes is null && MaxUploadBytes is null && MaxUnfinishedUploads is null)
        {
            problems.Add($"{nameof(QuotaOptions)}: set at least one of {nameof(MaxTotalBytes)}, {nameof(MaxUploadBytes)} and {nameof(MaxUnfinishedUploads)}.");
        }

        if (MaxTotalBytes is < 0)
        {
            problems.Add($"{nameof(QuotaOptions)}.{nameof(MaxTotalBytes)} must not be negative; it is {MaxTotalBytes}.");
        }

        if (MaxUploadBytes is < 0)
        {
            problems.Add($"{nameof(QuotaOptions)}.{nameof(MaxUploadBytes)} must not be negative; it is {MaxUploadBytes}.");
        }

        if (MaxUnfinishedUploads is < 0)
        {
            problems.Add($"{nameof(QuotaOptions)}.{nameof(MaxUnfinishedUploads)} must not be negative; it is {MaxUnfinishedUploads}.");
        }

        if (ReclaimAfter is { } reclaim && reclaim <= TimeSpan.Zero)
        {
            problems.Add($"{nameof(QuotaOptions)}.{nameof(ReclaimAfter)} must be positive (or null to never reclaim); it is {reclaim}.");
        }

        if (ResyncInterval is { } resync && resync <= TimeSpan.Zero)
        {
            problems.Add($"{nameof(QuotaOptions)}.{nameof(ResyncInterval)} must be positive (or null to rebuild only at start-up); it is {resync}.");
        }

        return problems;
    }
}
