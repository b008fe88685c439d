using System.Globalization;
using Tus.Http;
using Tus.Protocol;

namespace Tus.Engine;

/// <summary>OPTIONS: what this server offers.</summary>
internal static class OptionsHandler
{
    public static TusResponse Handle(EngineContext context, TusResponse response)
    {
        response.SetHeader(TusHeaders.TusVersion, TusHeaders.ProtocolVersion);
        response.SetHeader(TusHeaders.TusExtension, context.Capabilities.ExtensionsHeader);
        if (context.Options.MaxSize is { } maxSize)
        {
            response.SetHeader(TusHeaders.TusMaxSize, maxSize.ToString(CultureInfo.InvariantCulture));
        }

        if (context.Capabilities.ChecksumAlgorithms.Count > 0)
        {
            response.SetHeader(TusHeaders.TusChecksumAlgorithm, context.Capabilities.ChecksumAlgorithmsHeader);
        }

        return response.Succeed(204);
    }
}
