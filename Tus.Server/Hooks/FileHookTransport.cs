using System.Diagnostics;

namespace Tus.Server.Hooks;

/// <summary>
/// tusd's file hooks: for each event, the executable named after it in the hooks directory runs with the hook request as
/// JSON on stdin and TUS_ID, TUS_SIZE and TUS_OFFSET in its environment; exit code 0 and JSON (or nothing) on stdout is
/// an answer, any other exit code a failure; each line it writes to stderr goes to the log. A missing file means the
/// event is not handled.
/// </summary>
internal sealed class FileHookTransport(string directory, ILogger<FileHookTransport> logger) : IHookTransport
{
    /// <summary>More stdout than this is a broken hook, not an answer.</summary>
    private const int MaxOutputBytes = 1 << 20;

    public string Description => $"file hooks in {directory}";

    public async ValueTask<HookResponseDocument?> InvokeAsync(string hookType, HookRequestDocument request, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, hookType);
        if (!File.Exists(path))
        {
            return null;
        }

        var start = new ProcessStartInfo(path)
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var upload = request.Event.Upload;
        start.Environment["TUS_ID"] = upload.Id;
        start.Environment["TUS_SIZE"] = ExternalHookInvoker.Invariant(upload.Size);
        start.Environment["TUS_OFFSET"] = ExternalHookInvoker.Invariant(upload.Offset);

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new ExternalHookException($"The {hookType} hook {path} could not be started (is it executable?): {exception.Message}", exception);
        }

        var stderr = LogLinesAsync(process.StandardError, hookType, upload.Id);
        var stdout = ReadLimitedAsync(process.StandardOutput.BaseStream, hookType);
        try
        {
            await WriteRequestAsync(process, request, cancellationToken).ConfigureAwait(false);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            var output = await stdout.ConfigureAwait(false);
            await stderr.ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new ExternalHookException($"The {hookType} hook exited with code {process.ExitCode}.");
            }

            return ExternalHookInvoker.ParseResponse(output, hookType);
        }
        catch (OperationCanceledException)
        {
            // Timed out or shutting down: the hook's process (and what it started) must not linger.
            Kill(process);
            throw;
        }
        finally
        {
            if (!process.HasExited)
            {
                Kill(process);
            }
        }
    }

    private static async Task WriteRequestAsync(Process process, HookRequestDocument request, CancellationToken cancellationToken)
    {
        try
        {
            await process.StandardInput.BaseStream.WriteAsync(ExternalHookInvoker.Serialize(request), cancellationToken).ConfigureAwait(false);
            await process.StandardInput.BaseStream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The hook exited without reading its input: allowed, its exit code and output still count.
        }
        finally
        {
            try
            {
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // As above.
            }
        }
    }

    private static async Task<byte[]> ReadLimitedAsync(Stream output, string hookType)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await output.ReadAsync(chunk).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxOutputBytes)
            {
                throw new ExternalHookException($"The {hookType} hook wrote more than {MaxOutputBytes} bytes to stdout.");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private async Task LogLinesAsync(StreamReader stderr, string hookType, string uploadId)
    {
        while (await stderr.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            HookLog.HookStderr(logger, hookType, uploadId, line);
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile.
        }
    }
}
