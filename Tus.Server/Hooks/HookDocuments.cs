using System.Text.Json.Serialization;

namespace Tus.Server.Hooks;

// The JSON that tusd's file and HTTP hooks exchange (tusd's pkg/hooks HookRequest and HookResponse), field for field,
// so that hook programs written for tusd work unchanged. Reading is case-insensitive, as Go's encoding/json is.

/// <summary>What a hook program receives: the event's name and the upload and request it concerns.</summary>
internal sealed class HookRequestDocument
{
    [JsonPropertyName("Type")]
    public string Type { get; set; } = "";

    [JsonPropertyName("Event")]
    public HookEventDocument Event { get; set; } = new();
}

internal sealed class HookEventDocument
{
    [JsonPropertyName("Upload")]
    public UploadDocument Upload { get; set; } = new();

    [JsonPropertyName("HTTPRequest")]
    public HttpRequestDocument HttpRequest { get; set; } = new();
}

internal sealed class UploadDocument
{
    /// <summary>Empty for pre-create: the upload has no id until it exists.</summary>
    [JsonPropertyName("ID")]
    public string Id { get; set; } = "";

    /// <summary>0 while the length is deferred (see <see cref="SizeIsDeferred"/>).</summary>
    [JsonPropertyName("Size")]
    public long Size { get; set; }

    [JsonPropertyName("SizeIsDeferred")]
    public bool SizeIsDeferred { get; set; }

    [JsonPropertyName("Offset")]
    public long Offset { get; set; }

    [JsonPropertyName("MetaData")]
    public Dictionary<string, string> MetaData { get; set; } = [];

    [JsonPropertyName("IsPartial")]
    public bool IsPartial { get; set; }

    [JsonPropertyName("IsFinal")]
    public bool IsFinal { get; set; }

    [JsonPropertyName("PartialUploads")]
    public List<string>? PartialUploads { get; set; }

    [JsonPropertyName("Storage")]
    public Dictionary<string, string>? Storage { get; set; }
}

internal sealed class HttpRequestDocument
{
    [JsonPropertyName("Method")]
    public string Method { get; set; } = "";

    [JsonPropertyName("URI")]
    public string Uri { get; set; } = "";

    [JsonPropertyName("RemoteAddr")]
    public string RemoteAddr { get; set; } = "";

    /// <summary>Header names in Go's canonical spelling (Upload-Length, X-Forwarded-For), each with all its values.</summary>
    [JsonPropertyName("Header")]
    public Dictionary<string, List<string>> Header { get; set; } = [];
}

/// <summary>What a hook program may answer; every field is optional.</summary>
internal sealed class HookResponseDocument
{
    [JsonPropertyName("HTTPResponse")]
    public HttpResponseDocument? HttpResponse { get; set; }

    [JsonPropertyName("RejectUpload")]
    public bool RejectUpload { get; set; }

    [JsonPropertyName("RejectTermination")]
    public bool RejectTermination { get; set; }

    [JsonPropertyName("ChangeFileInfo")]
    public FileInfoChangesDocument? ChangeFileInfo { get; set; }

    [JsonPropertyName("StopUpload")]
    public bool StopUpload { get; set; }
}

internal sealed class HttpResponseDocument
{
    /// <summary>0 keeps the server's status.</summary>
    [JsonPropertyName("StatusCode")]
    public int StatusCode { get; set; }

    /// <summary>Empty keeps the server's body.</summary>
    [JsonPropertyName("Body")]
    public string? Body { get; set; }

    [JsonPropertyName("Header")]
    public Dictionary<string, string>? Header { get; set; }
}

internal sealed class FileInfoChangesDocument
{
    [JsonPropertyName("ID")]
    public string? Id { get; set; }

    [JsonPropertyName("MetaData")]
    public Dictionary<string, string>? MetaData { get; set; }

    [JsonPropertyName("Storage")]
    public Dictionary<string, string>? Storage { get; set; }
}

/// <summary>Source-generated (AOT-safe) serialization of the hook documents.</summary>
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(HookRequestDocument))]
[JsonSerializable(typeof(HookResponseDocument))]
internal sealed partial class HookJsonContext : JsonSerializerContext;
