namespace Tus.Stores;

/// <summary>The quota's accounting, for dashboards, health checks and tests. Registered by <c>.WithQuota(...)</c>.</summary>
public interface ITusQuota
{
    /// <summary>Reads the current figures; cheap, safe to call from any thread.</summary>
    /// <returns>A consistent snapshot.</returns>
    QuotaUsage GetUsage();
}

/// <summary>A snapshot of the quota's accounting.</summary>
/// <param name="UsedBytes">Bytes counted against <see cref="QuotaOptions.MaxTotalBytes"/>: every upload's charge plus the
/// growth reserved by writes in progress.</param>
/// <param name="MaxTotalBytes">The limit, or <see langword="null"/> for none.</param>
/// <param name="Uploads">Uploads the accounting knows of.</param>
/// <param name="UnfinishedUploads">Uploads not yet complete.</param>
/// <param name="ReclaimedUploads">Abandoned uploads deleted by the reclaim policy since start-up.</param>
/// <param name="ReclaimedBytes">Bytes those uploads were charged.</param>
public readonly record struct QuotaUsage(long UsedBytes, long? MaxTotalBytes, long Uploads, long UnfinishedUploads, long ReclaimedUploads, long ReclaimedBytes);
