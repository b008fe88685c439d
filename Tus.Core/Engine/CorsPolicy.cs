using System.Globalization;
using Tus.Http;
using Tus.Protocol;

namespace Tus.Engine;

/// <summary>Cross-origin headers for browser clients, precomputed once from the options.</summary>
internal sealed class CorsPolicy
{
    private const string Methods = "POST, HEAD, PATCH, OPTIONS, GET, DELETE";

    private static readonly string[] TusRequestHeaders =
    [
        "Authorization", "Origin", "X-Requested-With", "X-Request-ID", TusHeaders.MethodOverride, "Content-Type",
        TusHeaders.UploadLength, TusHeaders.UploadOffset, TusHeaders.TusResumable, TusHeaders.UploadMetadata,
        TusHeaders.UploadDeferLength, TusHeaders.UploadConcat, TusHeaders.UploadChecksum,
        Draft.DraftHeaders.UploadComplete, Draft.DraftHeaders.UploadIncomplete, Draft.DraftHeaders.InteropVersion, "Content-Disposition",
    ];

    private static readonly string[] TusResponseHeaders =
    [
        TusHeaders.UploadOffset, "Location", TusHeaders.UploadLength, TusHeaders.TusVersion, TusHeaders.TusResumable,
        TusHeaders.TusMaxSize, TusHeaders.TusExtension, TusHeaders.UploadMetadata, TusHeaders.UploadDeferLength,
        TusHeaders.UploadConcat, TusHeaders.UploadExpires, TusHeaders.TusChecksumAlgorithm, "Content-Range",
        "Content-Disposition", Draft.DraftHeaders.UploadComplete, Draft.DraftHeaders.UploadIncomplete, Draft.DraftHeaders.UploadLimit,
    ];

    private readonly bool _enabled;
    private readonly bool _anyOrigin;
    private readonly HashSet<string> _origins;
    private readonly bool _credentials;
    private readonly string _allowHeaders;
    private readonly string _exposeHeaders;
    private readonly string _maxAge;

    public CorsPolicy(TusCorsOptions options)
    {
        _enabled = options.Enabled;
        _anyOrigin = options.AllowedOrigins.Contains("*");
        _origins = new HashSet<string>(options.AllowedOrigins, StringComparer.OrdinalIgnoreCase);
        _credentials = options.AllowCredentials;
        _allowHeaders = string.Join(", ", TusRequestHeaders.Concat(options.AllowedHeaders).Distinct(StringComparer.OrdinalIgnoreCase));
        _exposeHeaders = string.Join(", ", TusResponseHeaders.Concat(options.ExposedHeaders).Distinct(StringComparer.OrdinalIgnoreCase));
        _maxAge = ((long)options.MaxAge.TotalSeconds).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Adds the CORS headers a request calls for; returns <see langword="false"/> when its origin is not allowed.</summary>
    public bool Apply(TusRequest request, string method, TusResponse response)
    {
        var origin = request.GetHeader("Origin");
        if (!_enabled || string.IsNullOrEmpty(origin))
        {
            return true;
        }

        if (!_anyOrigin && !_origins.Contains(origin))
        {
            return false;
        }

        // The origin is echoed rather than answered with '*' so that credentials work; Vary keeps caches honest.
        response.SetHeader("Access-Control-Allow-Origin", origin);
        response.SetHeader("Vary", "Origin");
        if (_credentials)
        {
            response.SetHeader("Access-Control-Allow-Credentials", "true");
        }

        if (method == "OPTIONS" && request.GetHeader("Access-Control-Request-Method") is not null)
        {
            response.SetHeader("Access-Control-Allow-Methods", Methods);
            response.SetHeader("Access-Control-Allow-Headers", _allowHeaders);
            response.SetHeader("Access-Control-Max-Age", _maxAge);
        }
        else
        {
            response.SetHeader("Access-Control-Expose-Headers", _exposeHeaders);
        }

        return true;
    }
}
