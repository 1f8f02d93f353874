"""The clip-generation tasks the state machine calls.

Each task validates the job state it is handed (``chalicelib/job.py``) and returns it,
extended, as a model. Large data (audio, transcripts, clips) stays in S3. Retry and catch
policy lives in the state machine, not here.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from typing import Any

from chalicelib.adapters.s3 import clip_key, prepared_key, transcript_key, video_prefix, work_key, work_prefix
from chalicelib.config import settings
from chalicelib.domain import loudness
from chalicelib.domain.clock import now_iso, seconds_since
from chalicelib.domain.ids import new_id
from chalicelib.domain.languages import AUTO
from chalicelib.domain.media import Source
from chalicelib.domain.messages import say
from chalicelib.domain.transcript import Transcript
from chalicelib.errors import PipelineError, failure_from_catch
from chalicelib.job import ClipRef, JobOutcome, JobState, Media, RenderItem, RenderOutcome, Transcription
from chalicelib.models import CaptionStyleOptions, Failure
from chalicelib.services import webhooks, wiring
from chalicelib.services.sources import clip_source, local_source

log = logging.getLogger(__name__)

# A preparation pending for longer than this (or twice the video's duration) is taken for dead:
# half an hour is longer than a live one runs with Whisper, and Transcribe gets twice the duration.
PREPARATION_STALE_SECONDS = 1800
# How long a job waits before asking again whether the preparation is done. Local Whisper ends
# it at any moment, and each second of this wait is on the user's clock (half of it on average);
# Amazon Transcribe is only asked every KLYPH_TRANSCRIBE_POLL_SECONDS anyway, so a shorter wait
# there would only add Lambda calls and state transitions.
PREPARATION_POLL_SECONDS_WHISPER, PREPARATION_POLL_SECONDS_TRANSCRIBE = 1, 2

Event = dict[str, Any]
# The audio stream as the source carries it (Matroska takes any codec), kept with the video.
AUDIO_COPY = "source-audio.mka"


def _stage(call_id: str, stage: str) -> None:
    wiring.records().mark_stage(call_id, stage, now_iso())


def _store_json(key: str, doc: Any) -> None:
    wiring.blobs().put_bytes(key, json.dumps(doc, separators=(",", ":")).encode())


def _load_json(key: str) -> Any:
    return json.loads(wiring.blobs().get_bytes(key))


def prepare(event: Event) -> Event:
    """Reuse what an earlier job stored for this source version (``_reuse_preparation``), else
    extract the speech audio with its loudness profile from the pinned source.

    A pinned source (``source.versionId``) is the very object the upload probe accepted, and
    submit passed its facts along: it is not probed again. Only a video recorded before
    versions were pinned is probed here, since its bytes may have changed since.
    """
    state = JobState.model_validate(event)
    if not state.prepareOnly:
        if not state.preparationPending:
            # Asked again while the preparation runs: the stage was marked on the first ask, and
            # a write per second adds nothing but load on the cores the preparation is using.
            _stage(state.callId, "preparing")
        if _preparation_running(state):
            poll = (PREPARATION_POLL_SECONDS_WHISPER if settings().transcriber == "whisper"
                    else PREPARATION_POLL_SECONDS_TRANSCRIBE)
            return state.model_copy(update={"preparationPending": True, "preparationPollSeconds": poll,
                                            "transcriptReused": False}).wire()
        reused = _reuse_preparation(state)
        if reused is not None:
            return reused.model_copy(update={"preparationPending": False}).wire()
    ffmpeg = wiring.ffmpeg()
    # The probe's facts, when they describe exactly the version this job reads.
    pinned_facts = state.media.info() if state.media is not None and state.source.versionId else None
    audio_key = loudness_key = None
    with local_source(state.source.key, state.source.versionId) as source, tempfile.TemporaryDirectory() as tmp:
        info = pinned_facts or ffmpeg.probe(source)
        if info.has_audio:
            wav, audio_copy = os.path.join(tmp, "audio.wav"), os.path.join(tmp, "source-audio.mka")
            # One pass over the source gives the speech audio, its per-second loudness and a
            # copy of the audio stream (a few % of a video's bytes), from which StartTranscription
            # measures the loudness table while the transcriber works (``_measure_loudness``).
            levels = ffmpeg.extract_audio(source, wav, audio_copy)
            # Kept with the video, not under work/: a later job on this source reads them.
            audio_key = prepared_key(state.accountId, state.videoId, "audio.wav")
            loudness_key = prepared_key(state.accountId, state.videoId, "levels.json")
            wiring.blobs().upload_file(wav, audio_key, "audio/wav")
            _store_json(loudness_key, levels)
            if os.path.exists(audio_copy):
                wiring.blobs().upload_file(audio_copy, prepared_key(state.accountId, state.videoId, AUDIO_COPY),
                                           "audio/x-matroska")
    if state.prepareOnly:
        _unless_deleted(state)
    if pinned_facts is None:
        # An unpinned source was probed just now: record what it is. (Submit already set the
        # video "processing"; a pinned source's facts are in the record since its upload.)
        wiring.records().update_video(state.videoId, media=info.to_dict(), updatedAt=now_iso())
    return state.model_copy(update={"media": Media.of(info), "audioKey": audio_key, "loudnessKey": loudness_key,
                                    "transcriptReused": False, "preparationPending": False}).wire()


def _unless_deleted(state: JobState) -> None:
    """Stop a preparation, removing everything it wrote, when its video was deleted while it ran.

    The video is not "processing" while it is prepared, so a delete may run meanwhile. Checked
    after each write: either the delete's purge comes later and removes the file, or this
    check sees the deletion and removes it; nothing is left behind in either order."""
    video = wiring.records().get_video(state.videoId)
    if video is None or video.get("deleting"):
        _discard_preparation(state)


def _discard_preparation(state: JobState) -> None:
    blobs = wiring.blobs()
    for prefix in (video_prefix(state.accountId, state.videoId), work_prefix(state.accountId, state.videoId)):
        blobs.purge(prefix + "/")
    raise PipelineError("video_deleted", f"video {state.videoId} was deleted while it was being prepared")


def _preparation_running(state: JobState) -> bool:
    """Whether the preparation started at upload is still at work on this source version. One
    pending for longer than it could take (its execution died unrecorded) no longer counts:
    the job does the work itself."""
    preparation = (wiring.records().get_video(state.videoId) or {}).get("preparation") or {}
    if preparation.get("status") != "pending" or preparation.get("sourceVersionId") != state.source.versionId:
        return False
    duration = state.media.durationSeconds if state.media is not None else 0
    stale_after = max(PREPARATION_STALE_SECONDS, 2 * duration)
    return seconds_since(preparation.get("startedAt")) < stale_after


def _reuse_preparation(state: JobState) -> JobState | None:
    """The job state with what an earlier job stored for this source version: its speech audio
    and loudness profile, and its transcript when there is one in the language asked for
    ("auto": the language an earlier "auto" job detected; ``transcriptReused`` then says so).
    None when nothing was stored for this version.

    A reused transcript is copied to the job's own work/ key: an edit of the stored one while
    the job runs then cannot give its clips two different transcripts."""
    version = state.source.versionId
    preparation = (wiring.records().get_video(state.videoId) or {}).get("preparation") or {}
    if (not version or state.media is None or preparation.get("status") != "ready"
            or preparation.get("sourceVersionId") != version):
        return None
    has_audio = state.media.hasAudio
    reused = state.model_copy(update={
        "audioKey": prepared_key(state.accountId, state.videoId, "audio.wav") if has_audio else None,
        "loudnessKey": prepared_key(state.accountId, state.videoId, "levels.json") if has_audio else None,
        "transcriptReused": False,
    })
    language = preparation.get("language") if state.options.language == AUTO else state.options.language
    if state.options.language == AUTO and preparation.get("noSpeech"):
        # Whisper heard nobody in this version: hearing it again would find nobody again.
        transcript = Transcript(language="", duration=state.media.durationSeconds, words=[], segments=[])
    else:
        blobs = wiring.blobs()
        stored_key = transcript_key(state.accountId, state.videoId, language) if language else None
        if stored_key is None or blobs.head(stored_key) is None:
            return reused
        stored = _load_json(stored_key)
        if stored.get("sourceVersionId") != version:
            return reused
        transcript = Transcript.from_dict(stored)
    key = work_key(state.accountId, state.videoId, state.callId, "transcript.json")
    _store_json(key, transcript.to_dict())
    wiring.records().update_call(state.callId, language=transcript.language)
    return reused.model_copy(update={
        "transcription": Transcription(status="COMPLETED", key=key, words=len(transcript.words),
                                       language=transcript.language),
        "transcriptReused": True,
    })


def transcribe_start(event: Event) -> Event:
    """Start the transcriber, and measure the loudness table while it works: Transcribe works
    elsewhere, so this function measures after starting it; Whisper works here, so the
    measurement runs beside it at a lower CPU priority, taking what Whisper leaves (model loads,
    language detection, the gaps between its windows) instead of waiting for its end."""
    state = JobState.model_validate(event)
    if not state.prepareOnly:
        _stage(state.callId, "transcribing")
    cfg = settings()
    job_transcript = work_key(state.accountId, state.videoId, state.callId, "transcript.json")
    if not state.audioKey:
        transcript = Transcript(language="", duration=state.require_media().durationSeconds, words=[], segments=[])
    elif cfg.transcriber == "aws":
        output_key = work_key(state.accountId, state.videoId, state.callId, "transcribe-output.json")
        wiring.aws_transcriber().start(state.callId, state.audioKey, output_key, state.options.language)
        _measure_loudness(state)
        if state.prepareOnly:
            _unless_deleted(state)  # the transcript is kept (and checked) by a later task
        transcription = Transcription(status="IN_PROGRESS", key=job_transcript, jobName=state.callId,
                                      outputKey=output_key, pollSeconds=cfg.transcribe_poll_seconds,
                                      startedAt=now_iso())
        return state.model_copy(update={"transcription": transcription}).wire()
    else:
        measuring = threading.Thread(target=_measure_loudness, args=(state,), name="loudness-table", daemon=True)
        measuring.start()
        with tempfile.TemporaryDirectory() as tmp:
            wav = os.path.join(tmp, "audio.wav")
            wiring.blobs().download_file(state.audioKey, wav)
            transcript = wiring.whisper().transcribe(wav, state.options.language)
        measuring.join()
    return state.model_copy(update={"transcription": _transcribed(state, job_transcript, transcript)}).wire()


def _measure_loudness(state: JobState) -> None:
    """The whole audio's loudness through the clip audio chain at a few gains (``domain.loudness``),
    kept with the video: each clip's gain comes from it, with no measuring pass per clip. Skipped
    when this source version has a current table. A failure costs only speed (each render then
    measures its own range), so it is logged, not raised. A video deleted meanwhile loses the
    table with the rest of its preparation when the transcript is kept (``_keep_transcript``)."""
    try:
        if not state.loudnessKey or _stored_table(state.accountId, state.videoId, state.source.versionId):
            return
        copy_key = prepared_key(state.accountId, state.videoId, AUDIO_COPY)
        if wiring.blobs().head(copy_key) is None:
            return  # the audio could not be copied out of the source (rare): each render measures its range
        levels = _load_json(state.loudnessKey)
        with tempfile.TemporaryDirectory() as tmp:
            audio = os.path.join(tmp, AUDIO_COPY)
            wiring.blobs().download_file(copy_key, audio)
            table = wiring.ffmpeg().gain_table(audio, levels, background=True)
        silent_table = {"v": loudness.TABLE_VERSION, "gains": [], "blocks": []}
        _store_json(prepared_key(state.accountId, state.videoId, "loudness.json"),
                    {**(table or silent_table), "sourceVersionId": state.source.versionId})
    except Exception:
        log.warning("loudness table of %s not measured: each clip will measure its own range",
                    state.videoId, exc_info=True)


def _transcribed(state: JobState, key: str, transcript: Transcript) -> Transcription:
    """Store the transcript (the job's copy, and the video's, where the user's corrections are
    kept and later jobs find it) and record its language on the call (the poll answers with it)."""
    corrections: list[dict[str, Any]] = []
    if transcript.language:
        transcript, corrections = with_corrections(state.accountId, state.videoId, transcript, state.source.versionId)
    _store_json(key, transcript.to_dict())
    _keep_transcript(state, transcript, corrections)
    if not state.prepareOnly:
        wiring.records().update_call(state.callId, language=transcript.language)
    return Transcription(status="COMPLETED", key=key, words=len(transcript.words), language=transcript.language)


def _keep_transcript(state: JobState, transcript: Transcript, corrections: list[dict[str, Any]]) -> None:
    """Keep the transcript with the video, naming the source version it was made from, and mark
    the video's preparation ready for that version, so the next job on it skips audio extraction
    (and, in that language, transcription). Only a pinned source is marked: an unpinned one may
    change. A transcript without speech ("" names no language) is not kept: the audio is."""
    version = state.source.versionId
    if not version:
        return
    if transcript.language and state.audioKey:
        store_video_transcript(state.accountId, state.videoId, transcript, version, corrections)
    records = wiring.records()
    before = (records.get_video(state.videoId) or {}).get("preparation") or {}
    # The language an "auto" job detected is what a later "auto" job reuses; an explicit
    # language leaves that choice as it was (for this version).
    detected = before.get("language") if before.get("sourceVersionId") == version else None
    if state.options.language == AUTO:
        detected = transcript.language or None
    # Audio in which "auto" found no speech at all (music, room tone): a later "auto" job
    # reuses that finding instead of running the transcriber again.
    no_speech = state.options.language == AUTO and bool(state.audioKey) and not transcript.language
    marked = records.set_preparation(state.videoId, {
        "status": "ready", "sourceVersionId": version, "preparedAt": now_iso(),
        **({"language": detected} if detected else {}), **({"noSpeech": True} if no_speech else {}),
    })
    if marked is None:
        _discard_preparation(state)  # a job's video cannot be deleted: only a preparation's


def store_video_transcript(account_id: str, video_id: str, transcript: Transcript,
                           source_version_id: str | None, corrections: list[dict[str, Any]] | None = None) -> str:
    """The video's transcript (``transcript_key``): the Transcript JSON, the source version it
    was made from and the user's corrections (update-transcript). Returns its key."""
    key = transcript_key(account_id, video_id, transcript.language)
    _store_json(key, {**transcript.to_dict(), "sourceVersionId": source_version_id,
                      **({"corrections": corrections} if corrections else {})})
    return key


def with_corrections(account_id: str, video_id: str, transcript: Transcript,
                     source_version_id: str | None) -> tuple[Transcript, list[dict[str, Any]]]:
    """A new transcription of the same source with the user's corrections applied again: each
    to the word at the same place and time (within 0.1 s), so every later clip shows them."""
    from chalicelib.domain.edits import correct

    blobs = wiring.blobs()
    key = transcript_key(account_id, video_id, transcript.language)
    if not blobs.head(key):
        return transcript, []
    stored = _load_json(key)
    if stored.get("sourceVersionId") != source_version_id:
        return transcript, []  # another source: its words are not these
    kept = [c for c in stored.get("corrections") or []
            if c["index"] < len(transcript.words) and abs(transcript.words[c["index"]].start - c["start"]) <= 0.1
            and abs(transcript.words[c["index"]].end - c["end"]) <= 0.1]
    return correct(transcript, {c["index"]: c["text"] for c in kept}), kept


def transcribe_check(event: Event) -> Event:
    state = JobState.model_validate(event)
    job = state.require_transcription()
    if job.jobName is None or job.outputKey is None:
        raise ValueError("CheckTranscription needs the Transcribe job's name and output key")
    transcriber = wiring.aws_transcriber()
    status, reason, locale = transcriber.check(job.jobName)
    if status == "FAILED":
        raise PipelineError("transcription_failed", f"transcription failed: {reason or 'unknown reason'}")
    if status != "COMPLETED":
        return state.wire()
    transcript = transcriber.fetch(job.outputKey, locale)
    done = _transcribed(state, job.key, transcript)
    if job.startedAt:
        done = done.model_copy(update={"waitSeconds": round(seconds_since(job.startedAt), 3)})
    return state.model_copy(update={"transcription": done}).wire()


def select(event: Event) -> Event:
    from chalicelib.domain.selection import (
        instruction_avoid,
        instruction_topic,
        needs_multilingual,
        rank_clips,
        resolve_language,
        sentence_units,
    )

    state = JobState.model_validate(event)
    _stage(state.callId, "selecting")
    opts = state.options
    instructions = opts.customInstructions
    transcript = Transcript.from_dict(_load_json(state.require_transcription().key))
    energy = _load_json(state.loudnessKey) if state.loudnessKey else None
    relevance = cohesion = avoidance = None
    # The transcriber's language ("" in an older transcript: guessed from its words); None if unknown.
    language = resolve_language(transcript)
    avoid = instruction_avoid(instructions, language)
    if transcript.words:
        try:
            signals = wiring.embedder().analyse(
                [s.text for s in sentence_units(transcript)], instruction_topic(instructions, language),
                multilingual=needs_multilingual(language, instructions), **({"avoid": avoid} if avoid else {}),
            )
            relevance, cohesion, avoidance = signals.relevance, signals.cohesion, signals.avoidance
        except Exception as exc:  # noqa: BLE001 - e.g. wordllama not installed: keyword matching still works
            log.warning("sentence embeddings unavailable, matching instructions by keywords: %s", exc)
    ranking = rank_clips(
        transcript,
        duration=state.require_media().durationSeconds,
        max_clips=opts.maxClips,
        min_duration=opts.minDuration,
        max_duration=opts.maxDuration,
        instructions=instructions,
        energy=energy,
        relevance=relevance,
        cohesion=cohesion,
        language=language,
        avoidance=avoidance,
    )
    choices = ranking.choices
    if settings().selector == "bedrock" and choices:
        choices = wiring.llm_selector().choose(ranking, instructions)
    if choices and state.audioKey and transcript.words:
        choices = _cut_on_quiet(choices, transcript, state.audioKey, state.require_media().durationSeconds,
                                opts.minDuration, opts.maxDuration)
    # Nothing to clip is an answer, not a failure: the job succeeds with no clips and says why.
    notes = list(ranking.notes)
    media = state.require_media()
    low_resolution = None
    if media.width and media.height:
        from chalicelib.domain.media import low_resolution as below_720, output_size, resolution_note

        # Each clip says it too (its view's low_resolution), as the rendered size will.
        low_resolution = below_720(*output_size(media.width, media.height, opts.aspectRatio, opts.allowUpscale))
        note = resolution_note(media.width, media.height, opts.aspectRatio, opts.allowUpscale, ranking.language)
        if note and choices:
            notes.append(note)
    if not choices and not notes:
        notes.append(say("nothing_to_clip", ranking.language, lengths=f"{opts.minDuration:g}-{opts.maxDuration:g} s"))
    records = wiring.records()
    clips = []
    now = now_iso()
    for index, choice in enumerate(choices):
        clip = ClipRef(index=index, id=new_id("clip"), start=choice.start, end=choice.end)
        records.put_clip(
            {
                "id": clip.id,
                "videoId": state.videoId,
                "callId": state.callId,
                "accountId": state.accountId,
                "index": index,
                "start": round(choice.start, 3),
                "end": round(choice.end, 3),
                "title": choice.title,
                "description": choice.description,
                "hashtags": choice.hashtags,
                "score": round(choice.score, 1),
                "reason": choice.reason,
                "aspectRatio": opts.aspectRatio,
                "language": transcript.language or None,
                "lowResolution": low_resolution,
                "status": "draft",
                "createdAt": now,
            }
        )
        clips.append(clip)
    records.update_call(state.callId, clipsTotal=len(clips), clipsDone=0, updatedAt=now, notes=notes)
    # The render Map starts its items in this order (MaxConcurrency at a time): shortest first,
    # so the first clip is ready as soon as it can be (each keeps its timeline index).
    clips.sort(key=lambda c: (c.end - c.start, c.index))
    return state.model_copy(update={"clips": clips}).wire()


def _cut_on_quiet(choices: list[Any], transcript: Transcript, audio_key: str, duration: float,
                  min_duration: float, max_duration: float) -> list[Any]:
    """The clips' edges moved onto quiet audio (``domain.cuts``), reading only the speech track's
    bytes around each edge; the word-timed edges stand if the audio cannot be read."""
    from dataclasses import replace

    from chalicelib.adapters.audio import WavLevels
    from chalicelib.domain.cuts import refine

    blobs = wiring.blobs()
    try:
        levels = WavLevels(lambda first, last: blobs.get_range(audio_key, first, last))
        return [replace(c, **dict(zip(("start", "end"), refine(
            transcript.words, c.start, c.end, levels, duration=duration, max_duration=max_duration,
            min_duration=min_duration))))
            for c in choices]
    except Exception as exc:  # noqa: BLE001 - cuts on word timings are still clean cuts
        log.warning("could not measure the audio at the cuts; keeping word-timed cuts: %s", exc)
        return choices


def reframe(event: Event) -> Event:
    """PlanReframe: find the faces in the clip's range and plan the crop's path. Runs in its
    own function, the one that carries OpenCV; the render only applies the plan."""
    from chalicelib.services.reframe import plan_for_clip, speech_spans, thumbnail_time

    item = RenderItem.model_validate(event)
    clip = item.clip
    plan: Any = None
    seen: list[Any] = []
    sharpness: dict[float, float] = {}
    # Only the clip's range is decoded: read in place (ranged requests), not downloaded whole.
    with clip_source(item.source.key, item.source.versionId) as source:
        if item.options.reframe != "center":
            # When people speak (the transcript's sentences) is half of knowing who speaks.
            speech = speech_spans(Transcript.from_dict(_load_json(item.transcriptKey)).segments, clip.start, clip.end)
            plan = plan_for_clip(source, clip.start, clip.end, item.options.aspectRatio, item.media.info(),
                                 layout=item.options.reframe, speech=speech, seen=seen, sharpness=sharpness)
        # The thumbnail's moment: a face, visible and sharp (the render has no OpenCV to look).
        at = thumbnail_time(source, clip.start, clip.end, item.media.info(), seen or None, sharpness)
    return item.model_copy(update={"reframe": plan, "thumbnailAt": at}).wire()


def render(event: Event) -> Event:
    from chalicelib.domain import captions
    from chalicelib.domain.media import output_size, split_panel_size

    item = RenderItem.model_validate(event)
    clip, opts, edit = item.clip, item.options, item.edit
    _stage(edit.callId if edit else item.callId, "rendering")
    acc, vid, call, index = item.accountId, item.videoId, item.callId, clip.index
    version = edit.version if edit else 1
    info = item.media.info()
    transcript = Transcript.from_dict(_load_json(item.transcriptKey))
    words = captions.clip_words(transcript.words, clip.start, clip.end)
    ffmpeg = wiring.ffmpeg()
    blobs = wiring.blobs()
    fields: dict[str, Any] = {}
    with clip_source(item.source.key, item.source.versionId) as source, tempfile.TemporaryDirectory() as tmp:
        crop_commands = panels = None
        plan = item.reframe
        if plan is not None and plan.layout == "split":
            panels = plan.panels
        elif plan is not None:
            from chalicelib.services.reframe import write_sendcmd

            crop_commands = write_sendcmd(plan, info, tmp)
        elif item.reframeError is not None:
            log.warning("reframe planning failed; rendering with the centre crop",
                        extra={"callId": call, "clipIndex": index, "error": item.reframeError.Error})
        fields["layout"] = plan.layout if plan is not None else "center"
        if fields["layout"] != "split" and info.width and info.height:
            fields["crop"] = _crop_at_middle(plan, info, clip, opts.aspectRatio)
        ass = None
        style = opts.captionStyle or CaptionStyleOptions()
        burned_words = words if opts.captions else []
        headline = ((edit and edit.title) or _clip_record(item).get("title")) if style.hook else None
        if (burned_words or headline) and info.width and info.height:
            ass = os.path.join(tmp, "captions.ass")
            size = output_size(info.width, info.height, opts.aspectRatio, opts.allowUpscale)
            if panels:
                size = (size[0], 2 * split_panel_size(info.width, info.height, opts.allowUpscale)[1])
            with open(ass, "w", encoding="utf-8") as f:
                f.write(captions.to_ass(burned_words, *size, language=transcript.language, middle=bool(panels),
                                        style=style.style(), headline=headline))
            missing = captions.missing_characters(burned_words)
            if missing:
                # Left out of the burned captions (no shipped font has them); the sidecars keep them.
                log.warning("caption characters without a font", extra={
                    "callId": call, "clipIndex": index, "characters": "".join(missing[:50]),
                    "codepoints": [f"U+{ord(c):04X}" for c in missing[:50]],
                })
        out = os.path.join(tmp, "clip.mp4")
        rendered = ffmpeg.render_clip(
            source, out, start=clip.start, end=clip.end, aspect=opts.aspectRatio, info=info,
            captions=ass, crop_commands=crop_commands, panels=panels, upscale=opts.allowUpscale,
            gain_table=_gain_table(item.accountId, item.videoId, item.source.versionId) if info.has_audio else None,
        )
        thumb = os.path.join(tmp, "thumbnail.jpg")
        _thumbnail(item, source, thumb, tmp, info, panels)
        key = clip_key(acc, vid, call, index, version=version)
        blobs.upload_file(out, key, "video/mp4")
        fields["thumbnailKey"] = clip_key(acc, vid, call, index, ext="jpg", version=version)
        blobs.upload_file(thumb, fields["thumbnailKey"], "image/jpeg")
    # Sidecars whether or not captions are burned in: platforms and players take them as
    # closed captions, and they cost nothing.
    if words:
        fields["captionsSrtKey"] = clip_key(acc, vid, call, index, ext="srt", version=version)
        fields["captionsVttKey"] = clip_key(acc, vid, call, index, ext="vtt", version=version)
        blobs.put_bytes(
            fields["captionsSrtKey"], captions.encode_sidecar(captions.to_srt(words, transcript.language)),
            "application/x-subrip; charset=utf-8",
        )
        blobs.put_bytes(
            fields["captionsVttKey"], captions.encode_sidecar(captions.to_vtt(words, transcript.language)),
            "text/vtt; charset=utf-8",
        )
    records = wiring.records()
    facts = dict(
        status="ready",
        key=key,
        width=rendered.width,
        height=rendered.height,
        durationSeconds=round(rendered.duration_seconds, 3),
        sizeBytes=rendered.size_bytes,
        captionsBurned=bool(ass and burned_words),
        renderedAt=now_iso(),
        **fields,
    )
    if edit is None:
        ready = records.update_clip(vid, call, index, **facts)
        records.update_call(call, add={"clipsDone": 1})
    else:
        # The new version replaces the clip's files and facts at once; the job's counts stay.
        changes: dict[str, Any] = {"title": edit.title, "description": edit.description}
        if opts.captionStyle is not None:  # the style later versions keep (an edit may have set it)
            changes["captionStyle"] = opts.captionStyle.model_dump(mode="json", exclude_none=True)
        # A version without words (moved onto silence) has no sidecars: the previous ones must go.
        gone = () if words else ("captionsSrtKey", "captionsVttKey")
        ready = records.end_clip_version(vid, call, index, drop=gone, **facts, version=version,
                                         start=round(clip.start, 3), end=round(clip.end, 3),
                                         **{k: v for k, v in changes.items() if v})
        now = now_iso()
        records.update_call(edit.callId, status="succeeded", stage="done", finishedAt=now, updatedAt=now,
                            clipsDone=1, clipsReady=1)
    webhooks.clip_ready(acc, ready)
    return RenderOutcome(index=index, status="ready").wire()


def _crop_at_middle(plan: Any, info: Any, clip: ClipRef, aspect: str) -> dict[str, int]:
    """The crop (source pixels) at the clip's middle: what an editor's timeline gets as the
    clip's transform (export-clip), where a moving crop cannot be carried."""
    from chalicelib.domain.media import crop_box
    from chalicelib.domain.reframe import crop_x_at

    w, h, x, y = crop_box(info.width, info.height, aspect)
    if plan is not None and plan.keyframes:
        x = int(crop_x_at(plan.keyframes, (clip.end - clip.start) / 2))
    return {"x": x, "y": y, "w": w, "h": h}


def _clip_record(item: RenderItem) -> dict[str, Any]:
    """The clip as SelectClips recorded it (its title: the thumbnail's, the hook's headline)."""
    return next((c for c in wiring.records().list_clips(item.videoId, item.callId)
                 if c["index"] == item.clip.index), {})


def _stored_table(account_id: str, video_id: str, version_id: str | None) -> dict[str, Any] | None:
    """The loudness table StartTranscription kept for this source version, in the current chain's
    version (``{"gains": []}`` for silence); None when there is none."""
    key = prepared_key(account_id, video_id, "loudness.json")
    if wiring.blobs().head(key) is None:
        return None
    table = _load_json(key)
    if table.get("sourceVersionId") != version_id or table.get("v") != loudness.TABLE_VERSION:
        return None
    return table


def _gain_table(account_id: str, video_id: str, version_id: str | None) -> dict[str, Any] | None:
    """The loudness measurement a render takes its gain from (``domain.loudness``); None when there
    is none (the render then measures its clip itself)."""
    table = _stored_table(account_id, video_id, version_id)
    return table if table and table.get("gains") else None


def _thumbnail(item: RenderItem, source: Source, dst: str, tmp: str, info: Any, panels: Any) -> None:
    """The clip's thumbnail, from the source through the clip's own crop and scale but before its
    captions: at PlanReframe's face moment, else the most representative frame a third in; with
    the title drawn on it when ``thumbnailTitle`` asks."""
    from chalicelib.adapters.ffmpeg import FONTS_DIR
    from chalicelib.domain.media import crop_box, output_size, video_filter
    from chalicelib.domain.reframe import crop_x_at
    from chalicelib.domain.thumbnails import title_ass

    clip, opts, plan = item.clip, item.options, item.reframe
    at = item.thumbnailAt if item.thumbnailAt is not None else (clip.end - clip.start) / 3
    center_x = None
    if plan is not None and plan.layout != "split" and info.width:
        crop_w = crop_box(info.width, info.height, opts.aspectRatio)[0]
        center_x = (crop_x_at(plan.keyframes, at) + crop_w / 2) / info.width
    title = None
    clip_record = _clip_record(item) if opts.thumbnailTitle else {}
    if clip_record and item.edit and item.edit.title:
        clip_record = {**clip_record, "title": item.edit.title}
    if clip_record.get("title"):
        title = os.path.join(tmp, "title.ass")
        size = output_size(info.width, info.height, opts.aspectRatio, opts.allowUpscale)
        with open(title, "w", encoding="utf-8") as f:
            f.write(title_ass(clip_record["title"], *size, language=clip_record.get("language")))
    vf = video_filter(info.width, info.height, opts.aspectRatio, center_x=center_x, panels=panels, captions=title,
                      fonts_dir=FONTS_DIR if title else None, upscale=opts.allowUpscale)
    wiring.ffmpeg().frame(source, dst, at=clip.start + at, vf=vf, representative=item.thumbnailAt is None)


def clip_failed(event: Event) -> Event:
    item = RenderItem.model_validate(event)
    error = failure_from_catch(item.error.model_dump() if item.error else None)
    log.warning("clip render failed: %s", error["message"],
                extra={"callId": item.callId, "clipIndex": item.clip.index, "errorCode": error["code"]})
    records = wiring.records()
    if item.edit is not None:
        # A failed re-render leaves the clip as it was (its latest ready version); the edit's
        # own call says why.
        now = now_iso()
        records.end_clip_version(item.videoId, item.callId, item.clip.index)
        records.update_call(item.edit.callId, status="failed", stage="failed", error=error, finishedAt=now,
                            updatedAt=now)
        return RenderOutcome(index=item.clip.index, status="failed").wire()
    records.update_clip(item.videoId, item.callId, item.clip.index, status="failed", error=error)
    records.update_call(item.callId, add={"clipsDone": 1})
    return RenderOutcome(index=item.clip.index, status="failed").wire()


def finalize(event: Event) -> Event:
    state = JobState.model_validate(event)
    _stage(state.callId, "finalizing")
    records = wiring.records()
    clips = records.list_clips(state.videoId, state.callId)
    ready = [c for c in clips if c["status"] == "ready"]
    if clips and not ready:
        first = next((c.get("error") for c in clips if c.get("error")), None) or {}
        raise PipelineError(
            "render_failed",
            f"none of the {len(clips)} clips could be rendered: {first.get('message', 'unknown error')}",
        )
    now = now_iso()
    records.update_video(state.videoId, status="ready", updatedAt=now)
    records.update_call(state.callId, status="succeeded", stage="done", finishedAt=now, updatedAt=now,
                        clipsReady=len(ready))
    webhooks.job_succeeded(state.accountId, state.callId, state.videoId, clips, now)
    return JobOutcome(callId=state.callId, status="succeeded", clipsReady=len(ready), clipsTotal=len(clips)).wire()


def failed(event: Event) -> Event:
    """Record the failure on the call, the video and the clips not yet rendered.

    The stage the job failed in is the one its call record was last marked with: each task
    marks its stage before it does anything else.
    """
    state = JobState.model_validate(event)
    error = failure_from_catch(state.error.model_dump() if state.error else None)
    now = now_iso()
    records = wiring.records()
    if state.prepareOnly:
        # A failed preparation fails nothing the user sees but itself: the video stays
        # submittable, and its job does the work.
        log.warning("preparation failed: %s", error["message"], extra={"videoId": state.videoId})
        records.set_preparation(state.videoId, {
            "status": "failed", "sourceVersionId": state.source.versionId, "error": error, "failedAt": now})
        return JobOutcome(callId=state.callId, status="failed", error=Failure(**error), stage="preparing").wire()
    call = records.get_call(state.callId) or {}
    for clip in records.list_clips(state.videoId, state.callId):
        if clip["status"] == "draft":
            records.update_clip(state.videoId, state.callId, clip["index"], status="failed",
                                error={"code": "job_failed", "message": error["message"]})
    # The source stays in S3 and the video keeps its media facts, so it can be resubmitted.
    records.update_video(state.videoId, status="failed", error=error, updatedAt=now)
    records.update_call(state.callId, status="failed", stage="failed", error=error, finishedAt=now, updatedAt=now)
    webhooks.job_failed(state.accountId, state.callId, state.videoId, error, call.get("stage") or "queued")
    return JobOutcome(callId=state.callId, status="failed", error=Failure(**error),
                      stage=call.get("stage") or "queued").wire()
