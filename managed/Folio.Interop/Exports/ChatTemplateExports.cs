using System.Runtime.InteropServices;
using System.Text;
using Folio.Core.Text.Jinja;
using Folio.Interop.Abi;
using Folio.Interop.Hosts;
using Folio.Interop.Runtime;

namespace Folio.Interop.Exports;

/// <summary>folio_engine_apply_chat_template (ABI 1.3): the model's chat template through LlmEngine.ApplyChatTemplate.</summary>
public static unsafe class ChatTemplateExports
{
    [UnmanagedCallersOnly(EntryPoint = "folio_engine_apply_chat_template")]
    public static int ApplyChatTemplate(nint engine, byte* messagesJson, ulong messagesLen, byte* toolsJson, ulong toolsLen,
        byte* optionsJson, ulong optionsLen, byte* outText, ulong capacity, ulong* outLen)
    {
        const string fn = "folio_engine_apply_chat_template";
        try
        {
            int s;
            if ((s = Args.Handle(engine, HandleKind.Engine, fn, "engine", out EngineHost host)) != 0) return s;
            if (CallbackScope.IsInside(host)) return Guard.Fail(FolioStatus.InvalidState, $"{fn}: called from a callback of the same engine");
            if ((s = Args.NotNull(outLen, fn, "out_len")) != 0) return s;
            if ((s = Args.Array(outText, capacity, ulong.MaxValue, fn, "out_text", "capacity")) != 0) return s;
            if ((s = Utf8Text.Decode(messagesJson, messagesLen, fn, "messages_json", out string messages)) != 0) return s;
            // tools and options are optional: NULL (with any length) means none.
            string? tools = null, options = null;
            if (toolsJson != null && (s = Utf8Text.Decode(toolsJson, toolsLen, fn, "tools_json", out tools)) != 0) return s;
            if (optionsJson != null && (s = Utf8Text.Decode(optionsJson, optionsLen, fn, "options_json", out options)) != 0) return s;
            if (host.Engine.ChatTemplate is null)
            {
                return Guard.Fail(FolioStatus.Unsupported,
                    $"{fn}: the model {host.Model.Name} has no chat template (no chat_template in tokenizer_config.json, no chat_template.jinja)");
            }
            string text;
            try
            {
                text = host.Engine.ApplyChatTemplate(messages, tools, options);
            }
            catch (TemplateException e)
            {
                // The template refused this input (its raise_exception, or a construct it cannot evaluate on it).
                return Guard.Fail(FolioStatus.InvalidArgument, $"{fn}: the chat template failed: {e.Message}");
            }
            return Utf8Text.Write(text, outText, capacity, outLen, fn);
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }
}
