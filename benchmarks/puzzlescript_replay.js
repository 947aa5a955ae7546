#!/usr/bin/env node
// Replays move strings in PuzzleScript's own engine, read from a PuzzleScript checkout (not part of
// relaygen). Usage: node puzzlescript_replay.js PUZZLESCRIPT_CHECKOUT CASES.json
// CASES.json: [{"game": source text, "level": LEVELS index, "moves": "udlrx"}, ...]
// Prints one JSON line per case: {"compiled": bool (no errors, warnings allowed), "errors": [...], "won": bool,
// "moves": n}.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const [checkout, casesFile] = process.argv.slice(2);
const quiet = () => {};
Object.assign(global, {
    window: global, localStorage: { getItem: () => null, setItem: quiet, removeItem: quiet },
    document: { URL: 'relaygen://', body: { classList: { contains: () => false }, addEventListener: quiet,
                removeEventListener: quiet }, createElement: () => ({ style: {}, getContext: () => null }),
                getElementById: () => null },
    canvas: null, lastDownTarget: null, canvasResize: quiet, redraw: quiet, forceRegenImages: quiet,
    consolePrintFromRule: quiet, consolePrint: quiet, console_print_raw: quiet, consoleError: quiet,
    consoleCacheDump: quiet, addToDebugTimeline: quiet, killAudioButton: quiet, showAudioButton: quiet,
    regenSpriteImages: quiet, jumpToLine: quiet, printLevel: quiet,
    levelString: '', inputString: '', outputString: '', editor: { getValue: () => global.levelString },
});
global.input = global.document.createElement('TEXTAREA');
const files = ['storagewrapper', 'bitvec', 'level', 'languageConstants', 'globalVariables', 'debug', 'font',
    'rng', 'riffwave', 'sfxr', 'codemirror/stringstream', 'colorhelpers', 'colors', 'engine', 'parser',
    'compiler', 'soundbar'];
const code = files.map(f => fs.readFileSync(path.join(checkout, 'src', 'js', f + '.js'), 'utf8')).join('\n');
// __dismiss: what the engine does when a player closes a rule's message (update(), quittingMessageScreen):
// the message goes, then the win conditions are checked.
const hooks = `
globalThis.__ps = () => ({ winning, againing, errorStrings, errorCount, textMode, messagetext });
globalThis.__dismiss = () => { messagetext = ''; textMode = false; checkWin(); };`;
vm.runInThisContext(code + hooks, { filename: 'ps.js' });
// After the engine's own definitions: no sound, no HTML in messages.
global.playSound = quiet;
global.stripHTMLTags = s => s.replace(/<\/?[a-zA-Z][^>]*>/g, '').trim();

const keys = { u: 0, l: 1, d: 2, r: 3, x: 4 };
const log = console.log;
console.log = quiet;
for (const c of JSON.parse(fs.readFileSync(casesFile, 'utf8'))) {
    const out = { compiled: false, errors: [], won: false, moves: 0 };
    try {
        global.levelString = c.game;
        if (typeof resetParserErrorState === 'function') resetParserErrorState();
        compile(['loadLevel', c.level], c.game, null);
        out.compiled = __ps().errorCount === 0;
        out.errors = out.compiled ? [] : (__ps().errorStrings || []).map(stripHTMLTags);
        // As a player in the browser: a rule's message is read and closed, again turns are waited for.
        const settle = () => {
            for (;;) {
                if (__ps().textMode && __ps().messagetext !== '') __dismiss();
                else if (__ps().againing) { againing = false; processInput(-1); }
                else break;
            }
        };
        settle();
        for (const m of c.moves) {
            if (__ps().winning) break;
            processInput(keys[m]);
            settle();
            out.moves++;
        }
        out.won = __ps().winning;
    } catch (err) {
        out.errors.push(String(err && err.message || err));
    }
    log(JSON.stringify(out));
}
