using System.Text.Json.Serialization;

namespace Tus.Lockers.Consul.Internal;

/// <summary>The body of <c>PUT /v1/session/create</c>.</summary>
internal sealed class SessionCreateRequest
{
    public string Name { get; set; } = "";

    public string TTL { get; set; } = "";

    public string LockDelay { get; set; } = "";

    public string Behavior { get; set; } = "delete";
}

/// <summary>The answer of <c>PUT /v1/session/create</c>.</summary>
internal sealed class SessionCreateResponse
{
    public string? ID { get; set; }
}

/// <summary>One KV entry as Consul lists it (<c>GET /v1/kv/PREFIX?recurse</c>) or returns it from a transaction.</summary>
internal sealed class KvEntry
{
    public string Key { get; set; } = "";

    public string? Session { get; set; }

    public long LockIndex { get; set; }

    public long CreateIndex { get; set; }

    public long ModifyIndex { get; set; }
}

/// <summary>One operation of <c>PUT /v1/txn</c>.</summary>
internal sealed class TxnOperation
{
    public TxnKv? KV { get; set; }
}

/// <summary>A KV operation of a transaction.</summary>
internal sealed class TxnKv
{
    public string Verb { get; set; } = "";

    public string Key { get; set; } = "";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public byte[]? Value { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Session { get; set; }
}

/// <summary>The answer of <c>PUT /v1/txn</c> (200 with results, 409 with errors).</summary>
internal sealed class TxnResponse
{
    public List<TxnResult>? Results { get; set; }

    public List<TxnError>? Errors { get; set; }
}

/// <summary>One result of a transaction.</summary>
internal sealed class TxnResult
{
    public KvEntry? KV { get; set; }
}

/// <summary>Why a transaction failed.</summary>
internal sealed class TxnError
{
    public int OpIndex { get; set; }

    public string? What { get; set; }
}

/// <summary>Source-generated JSON for Consul's HTTP API: no reflection, so the package stays trim- and AOT-clean.</summary>
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(SessionCreateRequest))]
[JsonSerializable(typeof(SessionCreateResponse))]
[JsonSerializable(typeof(List<KvEntry>))]
[JsonSerializable(typeof(List<TxnOperation>))]
[JsonSerializable(typeof(TxnResponse))]
internal sealed partial class ConsulJsonContext : JsonSerializerContext;
