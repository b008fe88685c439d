namespace Tus.Stores.Internal;

/// <summary>What the rebuild keeps of a listed upload: its charge, not its metadata.</summary>
internal readonly record struct ListedUpload(string Id, long Charge, bool Unfinished, long Offset, DateTimeOffset CreatedAt);

/// <summary>Why the ledger refused a reservation.</summary>
internal enum Refusal
{
    None,
    TotalBytes,
    UnfinishedUploads,
}

/// <summary>
/// The accounting: what each upload is charged, the growth reserved by writes in progress, and the totals. Every
/// decision and every change happens under one gate, so that concurrent reservations can never both take the last bytes.
/// </summary>
/// <remarks>
/// <para>An upload's charge is a function of its stored state alone (<see cref="ChargeOf"/>), so the accounting rebuilt
/// from the store's listing equals the accounting kept live. Growth reserved by a write in progress is held apart
/// (<see cref="Entry.InFlight"/>) and settled against the bytes actually stored when the write ends.</para>
/// <para>The gate is held for a few dictionary operations, once per creation and once per reservation step of a
/// deferred-length write, never across I/O.</para>
/// </remarks>
internal sealed class QuotaLedger(long? maxTotalBytes, int? maxUnfinished, bool countFinished)
{
    private readonly object _gate = new();
    private Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly HashSet<string> _removedDuringResync = new(StringComparer.Ordinal);
    private long _chargedBytes;
    private long _inFlightBytes;
    private long _unfinished;
    private long _version;
    private bool _resyncing;
    private long _reclaimedUploads;
    private long _reclaimedBytes;

    /// <summary>What an upload is charged in its stored state.</summary>
    public long ChargeOf(UploadInfo upload) =>
        upload.IsComplete ? (countFinished ? upload.Length!.Value : 0) : upload.Length ?? upload.Offset;

    /// <summary>Reserves the charge of a new upload, or says which limit refuses it.</summary>
    /// <returns><see cref="Refusal.None"/> when reserved; <paramref name="reserved"/> is <see langword="false"/> when an
    /// upload with that id is known already (the store will refuse the creation itself, and nothing is to be released).</returns>
    public Refusal TryReserveNew(string id, long charge, bool unfinished, DateTimeOffset now, out bool reserved)
    {
        lock (_gate)
        {
            reserved = false;
            if (_entries.ContainsKey(id))
            {
                return Refusal.None;
            }

            if (unfinished && maxUnfinished is { } maxCount && _unfinished >= maxCount)
            {
                return Refusal.UnfinishedUploads;
            }

            if (maxTotalBytes is { } max && charge > max - _chargedBytes - _inFlightBytes)
            {
                return Refusal.TotalBytes;
            }

            _entries[id] = new Entry { Charge = charge, Unfinished = unfinished, LastActivity = now, Version = ++_version, Creating = true };
            _chargedBytes += charge;
            _unfinished += unfinished ? 1 : 0;
            reserved = true;
            return Refusal.None;
        }
    }

    /// <summary>Marks a reserved creation as stored: from now on a listing sees the upload.</summary>
    public void CreationStored(string id)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(id, out var entry))
            {
                entry.Creating = false;
                entry.Version = ++_version;
            }
        }
    }

    /// <summary>Raises (or lowers) an upload's charge to <paramref name="charge"/> if the total allows it.</summary>
    /// <returns><see langword="false"/> when the quota refuses the rise; nothing changed then.</returns>
    public bool TryRecharge(UploadInfo upload, long charge, DateTimeOffset now)
    {
        lock (_gate)
        {
            var entry = Track(upload);
            var delta = charge - entry.Charge;
            if (delta > 0 && maxTotalBytes is { } max && delta > max - _chargedBytes - _inFlightBytes)
            {
                return false;
            }

            entry.Charge = charge;
            _chargedBytes += delta;
            Touch(entry, now);
            return true;
        }
    }

    /// <summary>Reserves up to <paramref name="wanted"/> bytes of growth for a write in progress.</summary>
    /// <returns>The bytes granted, from 0 to <paramref name="wanted"/>.</returns>
    public long TryGrow(UploadInfo upload, long wanted)
    {
        lock (_gate)
        {
            var entry = Track(upload);
            var granted = maxTotalBytes is { } max ? Math.Clamp(max - _chargedBytes - _inFlightBytes, 0, wanted) : wanted;
            entry.InFlight += granted;
            _inFlightBytes += granted;
            entry.Version = ++_version;
            return granted;
        }
    }

    /// <summary>Ends a write: its reserved growth is released and the upload charged as it is stored now.</summary>
    public void Settle(UploadInfo stored, long releaseInFlight, DateTimeOffset now)
    {
        lock (_gate)
        {
            var entry = Track(stored);
            entry.InFlight -= releaseInFlight;
            _inFlightBytes -= releaseInFlight;
            SetState(entry, ChargeOf(stored), !stored.IsComplete);
            entry.Offset = stored.Offset;
            Touch(entry, now);
        }
    }

    /// <summary>Releases growth reserved by a write whose result is unknown; the charge stays as it was.</summary>
    public void ReleaseInFlight(string id, long bytes)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(id, out var entry))
            {
                entry.InFlight -= bytes;
            }

            _inFlightBytes -= bytes;
        }
    }

    /// <summary>Forgets a removed upload and releases everything it was charged.</summary>
    /// <returns>The charge released.</returns>
    public long Remove(string id)
    {
        lock (_gate)
        {
            if (_resyncing)
            {
                _removedDuringResync.Add(id);
            }

            if (!_entries.Remove(id, out var entry))
            {
                return 0;
            }

            _version++;
            _chargedBytes -= entry.Charge;
            _inFlightBytes -= entry.InFlight;
            _unfinished -= entry.Unfinished ? 1 : 0;
            return entry.Charge;
        }
    }

    /// <summary>Counts an upload removed by the reclaim policy.</summary>
    public void CountReclaimed(long bytes)
    {
        lock (_gate)
        {
            _reclaimedUploads++;
            _reclaimedBytes += bytes;
        }
    }

    /// <summary>Unfinished uploads with no write since <paramref name="cutoff"/> and none in progress, oldest first.</summary>
    public List<(string Id, DateTimeOffset LastActivity)> ReclaimCandidates(DateTimeOffset cutoff)
    {
        var candidates = new List<(string Id, DateTimeOffset LastActivity)>();
        lock (_gate)
        {
            foreach (var (id, entry) in _entries)
            {
                if (entry.Unfinished && entry.InFlight == 0 && entry.LastActivity <= cutoff)
                {
                    candidates.Add((id, entry.LastActivity));
                }
            }
        }

        candidates.Sort(static (a, b) => a.LastActivity.CompareTo(b.LastActivity));
        return candidates;
    }

    /// <summary>When this process last saw the upload written (its creation time if never), or <see langword="null"/> if unknown.</summary>
    public DateTimeOffset? LastActivity(string id)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(id, out var entry) ? entry.LastActivity : null;
        }
    }

    /// <summary>Starts a rebuild from the listing: changes made from now on win over what the listing reports.</summary>
    /// <returns>The version the listing is compared against.</returns>
    public long BeginResync()
    {
        lock (_gate)
        {
            _resyncing = true;
            _removedDuringResync.Clear();
            return _version;
        }
    }

    /// <summary>Abandons a rebuild whose listing failed; the accounting stays as it was.</summary>
    public void AbandonResync()
    {
        lock (_gate)
        {
            _resyncing = false;
            _removedDuringResync.Clear();
        }
    }

    /// <summary>
    /// Replaces the accounting with the listing's, except for uploads this process changed while the listing ran (its
    /// own view is newer) and growth reserved by writes still in progress.
    /// </summary>
    /// <param name="listed">What the listing found.</param>
    /// <param name="startVersion">The version <see cref="BeginResync"/> returned.</param>
    /// <param name="now">When the listing ended.</param>
    /// <param name="initial">The start-up rebuild: an upload's last write is then known only as its creation. Later, an
    /// upload seen for the first time, or whose offset moved since the last listing, was written by another instance
    /// and counts as written now, so that the reclaim policy never takes an upload another instance is writing.</param>
    public void CompleteResync(List<ListedUpload> listed, long startVersion, DateTimeOffset now, bool initial)
    {
        lock (_gate)
        {
            var fresh = new Dictionary<string, Entry>(Math.Max(listed.Count, _entries.Count), StringComparer.Ordinal);
            foreach (var upload in listed)
            {
                if (_removedDuringResync.Contains(upload.Id))
                {
                    continue;
                }

                if (_entries.TryGetValue(upload.Id, out var known) && known.Version > startVersion)
                {
                    fresh[upload.Id] = known;
                    continue;
                }

                var writtenElsewhere = !initial && (known is null || known.Offset != upload.Offset);
                var lastActivity = known?.LastActivity ?? upload.CreatedAt;
                fresh[upload.Id] = new Entry
                {
                    Charge = upload.Charge,
                    Unfinished = upload.Unfinished,
                    Offset = upload.Offset,
                    LastActivity = writtenElsewhere && now > lastActivity ? now : lastActivity,
                    InFlight = known?.InFlight ?? 0,
                    Version = known?.Version ?? 0,
                };
            }

            // Created here while the listing ran (and not listed yet), still being created (reserved before the listing began,
            // stored after it passed), or still being written: kept as this process knows them.
            foreach (var (id, entry) in _entries)
            {
                if (!fresh.ContainsKey(id) && (entry.Version > startVersion || entry.Creating || entry.InFlight > 0))
                {
                    fresh[id] = entry;
                }
            }

            _entries = fresh;
            _chargedBytes = 0;
            _inFlightBytes = 0;
            _unfinished = 0;
            foreach (var entry in fresh.Values)
            {
                _chargedBytes += entry.Charge;
                _inFlightBytes += entry.InFlight;
                _unfinished += entry.Unfinished ? 1 : 0;
            }

            _version++;
            _resyncing = false;
            _removedDuringResync.Clear();
        }
    }

    public QuotaUsage Usage()
    {
        lock (_gate)
        {
            return new QuotaUsage(_chargedBytes + _inFlightBytes, maxTotalBytes, _entries.Count, _unfinished, _reclaimedUploads, _reclaimedBytes);
        }
    }

    /// <summary>The entry of an upload, added with its stored charge when this process did not know it (another
    /// instance created it): acknowledging what is stored needs no room, it is there already.</summary>
    private Entry Track(UploadInfo upload)
    {
        if (!_entries.TryGetValue(upload.Id, out var entry))
        {
            entry = new Entry { LastActivity = upload.CreatedAt, Offset = upload.Offset };
            _entries[upload.Id] = entry;
            SetState(entry, ChargeOf(upload), !upload.IsComplete);
        }

        return entry;
    }

    private void SetState(Entry entry, long charge, bool unfinished)
    {
        _chargedBytes += charge - entry.Charge;
        _unfinished += (unfinished ? 1 : 0) - (entry.Unfinished ? 1 : 0);
        entry.Charge = charge;
        entry.Unfinished = unfinished;
        entry.Version = ++_version;
    }

    private void Touch(Entry entry, DateTimeOffset now)
    {
        entry.Version = ++_version;
        if (now > entry.LastActivity)
        {
            entry.LastActivity = now;
        }
    }

    private sealed class Entry
    {
        public long Charge;
        public long InFlight;
        public long Offset;
        public bool Unfinished;
        public DateTimeOffset LastActivity;
        public long Version;

        /// <summary>Reserved, and the wrapped store's creation has not returned yet.</summary>
        public bool Creating;
    }
}
