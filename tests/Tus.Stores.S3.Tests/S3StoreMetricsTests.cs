using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Tus.Protocol;

namespace Tus.Stores.S3.Tests;

/// <summary>The store's meter (<see cref="S3Store.MeterName"/>) seen through a <see cref="MeterListener"/> while it writes
/// to a real S3 server.</summary>
public sealed class S3StoreMetricsTests : S3StoreTestBase
{
    [Fact]
    public async Task Meter_TwoAppendsWithAJoinedTail_ReportsPartDurationsBytesAndBuffersInUse()
    {
        var recorded = new ConcurrentQueue<(string Instrument, string? Unit, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this test's store: other tests' stores report on meters of the same name.
            if (ReferenceEquals(instrument.Meter, Store.Metrics.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
            where T : struct =>
            recorded.Enqueue((instrument.Name, instrument.Unit, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), new Dictionary<string, object?>(tags.ToArray())));
        listener.SetMeasurementEventCallback<double>(Record);
        listener.SetMeasurementEventCallback<long>(Record);
        listener.Start();
        Store.Metrics.Meter.Name.Should().Be("Tus.Stores.S3");

        var upload = await CreateAsync(7 * MiB);
        upload = await AppendAsync(upload, seed: 21, 3 * MiB); // one PUT: a tail below the 5 MiB minimum
        var observedMidway = new List<(string Instrument, string? Unit, double Value, Dictionary<string, object?> Tags)>();
        var body = new PatternStream(21, 3 * MiB, 4 * MiB)
        {
            MaxRead = 64 * 1024,
            CallAfter = MiB,
            Call = () =>
            {
                // The tail was read back into the buffer and 1 MiB of the body followed it.
                var before = recorded.Count;
                listener.RecordObservableInstruments();
                observedMidway.AddRange(recorded.Skip(before));
            },
        };
        (await Store.AppendAsync(upload, body, Ct)).Should().Be(4 * MiB);
        listener.RecordObservableInstruments();
        var all = recorded.ToList();

        var durations = all.Where(m => m.Instrument == "tus.s3.part.upload.duration").ToList();
        durations.Should().OnlyContain(m => m.Unit == "s" && m.Value > 0 && !m.Tags.ContainsKey("error.type"));
        durations.Count(m => Equals(m.Tags["rpc.method"], "PutObject")).Should().Be(1, "the first append fits in one PUT");
        durations.Count(m => Equals(m.Tags["rpc.method"], "UploadPart")).Should().Be(2, "the second writes 3 + 4 MiB as a 5 MiB and a 2 MiB part");

        var io = all.Where(m => m.Instrument == "tus.s3.io").ToList();
        io.Should().OnlyContain(m => m.Unit == "By");
        io.Where(m => Equals(m.Tags["network.io.direction"], "transmit")).Sum(m => m.Value).Should().Be(10 * MiB, "3 MiB, then the joined 3 MiB and 4 new MiB");
        io.Where(m => Equals(m.Tags["network.io.direction"], "receive")).Sum(m => m.Value).Should().Be(3 * MiB, "the small tail was read back to be joined");

        var usageMidway = observedMidway.Single(m => m.Instrument == "tus.s3.part_buffer.usage");
        usageMidway.Unit.Should().Be("By");
        usageMidway.Tags["tus.s3.part_buffer.storage"].Should().Be("file");
        usageMidway.Value.Should().BeInRange(3 * MiB, 4 * MiB, "the buffer holds the joined tail and part of the body");
        observedMidway.Single(m => m.Instrument == "tus.s3.part_buffer.count").Value.Should().BeGreaterThanOrEqualTo(1);

        var usageAfter = all.Last(m => m.Instrument == "tus.s3.part_buffer.usage");
        usageAfter.Value.Should().Be(0, "every buffer was emptied when its part was uploaded");
        all.Last(m => m.Instrument == "tus.s3.part_buffer.count").Value.Should().Be(0, "every buffer was given back");
        (await Store.GetAsync(upload.Id, Ct))!.IsComplete.Should().BeTrue();
    }

    [Fact]
    public async Task Meter_FailedPartUpload_RecordsTheDurationWithItsErrorType()
    {
        var recorded = new ConcurrentQueue<(string Instrument, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        using var store = CreateStore(o =>
        {
            o.PreferredPartSize = 5 * MiB;
            o.BufferInMemory = true;
        });
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, store.Metrics.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, state) => recorded.Enqueue((instrument.Name, new Dictionary<string, object?>(tags.ToArray()))));
        listener.Start();
        var upload = await store.CreateAsync(new NewUpload { Id = UploadId.New(), Length = 12 * MiB }, Ct);

        // The multipart upload is aborted behind the store's back while the body still arrives: the next part fails.
        var body = new PatternStream(22, 0, 12 * MiB)
        {
            CallAfter = 6 * MiB,
            Call = () =>
            {
                var uploads = Client.ListMultipartUploadsAsync(new Amazon.S3.Model.ListMultipartUploadsRequest { BucketName = Bucket, Prefix = Prefix }).GetAwaiter().GetResult();
                foreach (var open in uploads.MultipartUploads ?? [])
                {
                    Client.AbortMultipartUploadAsync(Bucket, open.Key, open.UploadId).GetAwaiter().GetResult();
                }
            },
        };
        var act = async () => await store.AppendAsync(upload, body, Ct);

        await act.Should().ThrowAsync<Exception>();
        recorded.Should().Contain(m => m.Instrument == "tus.s3.part.upload.duration" && m.Tags.ContainsKey("error.type"), "a failed part is measured too, with its error type");
    }
}
