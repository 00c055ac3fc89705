/**
 * The HP C2247A: a 1 GB, 5400 rpm, 3.5-inch SCSI-2 drive of 1992 (2051 cylinders, 13 surfaces,
 * 8 recording zones), as DiskSim describes it for its validation against the drive's measured
 * service times.
 *
 * Transcribed from DiskSim's `valid/` folder (github.com/westerndigitalcorporation/DiskSim, commit
 * dc21ab0bd53af26ef1acd8b2b9f8dd842aaa338e, STABLE/DiskSim_Linux_Generic_2.01.016/valid/,
 * BSD-3-Clause), kept in `../shared/traces/disksim-hp_c2247a/`: each value cites its line as
 * `model:N` (hp_c2247a_validate.model), `specs:N` (hp_c2247a.diskspecs) or `parv:N`
 * (hp_c2247a.parv). DiskSim gives times in ms; they are integer ns here. The files are not read at
 * run time.
 *
 * @module
 */

import type { HddParams } from "./hdd.ts";
import type { HddZone } from "./hdd_layout.ts";

// Zones: model:10-151. Sparing scheme 1 (spare tracks at the end of each zone, model:7) with
// LBN-to-PBN mapping 0 (model:6); slips are zone-relative physical track numbers.
const ZONES: readonly HddZone[] = [
  {
    firstCylinder: 0, // model:11
    lastCylinder: 558, // model:12
    blocksPerTrack: 96, // model:13
    firstBlockOffset: 0, // model:14
    frontDeadBlocks: 1632, // model:15
    trackSkew: 14, // model:16
    cylinderSkew: 32, // model:17
    spareTracks: 325, // model:18
    slippedTracks: [468, 526, 1204, 1861, 2447, 2680, 3098, 3683, 4880, 4919, 6952, 7095], // model:19-32
  },
  {
    firstCylinder: 559, // model:36
    lastCylinder: 760, // model:37
    blocksPerTrack: 92, // model:38
    firstBlockOffset: 14, // model:39
    frontDeadBlocks: 0, // model:40
    trackSkew: 13, // model:41
    cylinderSkew: 30, // model:42
    spareTracks: 130, // model:43
    slippedTracks: [231, 868, 1125, 1458, 1479, 1492], // model:44-51
  },
  {
    firstCylinder: 761, // model:55
    lastCylinder: 901, // model:56
    blocksPerTrack: 88, // model:57
    firstBlockOffset: 73, // model:58
    frontDeadBlocks: 0, // model:59
    trackSkew: 13, // model:60
    cylinderSkew: 29, // model:61
    spareTracks: 65, // model:62
    slippedTracks: [585, 996, 1401, 1810], // model:63-68
  },
  {
    firstCylinder: 902, // model:72
    lastCylinder: 1051, // model:73
    blocksPerTrack: 84, // model:74
    firstBlockOffset: 80, // model:75
    frontDeadBlocks: 0, // model:76
    trackSkew: 12, // model:77
    cylinderSkew: 28, // model:78
    spareTracks: 78, // model:79
    slippedTracks: [582, 595, 699], // model:80-84
  },
  {
    firstCylinder: 1052, // model:88
    lastCylinder: 1193, // model:89
    blocksPerTrack: 80, // model:90
    firstBlockOffset: 52, // model:91
    frontDeadBlocks: 0, // model:92
    trackSkew: 12, // model:93
    cylinderSkew: 27, // model:94
    spareTracks: 52, // model:95
    slippedTracks: [569, 1098, 1518], // model:96-100
  },
  {
    firstCylinder: 1194, // model:104
    lastCylinder: 1519, // model:105
    blocksPerTrack: 72, // model:106
    firstBlockOffset: 0, // model:107
    frontDeadBlocks: 0, // model:108
    trackSkew: 11, // model:109
    cylinderSkew: 24, // model:110
    spareTracks: 104, // model:111
    slippedTracks: [693, 1489, 3102, 3115], // model:112-117
  },
  {
    firstCylinder: 1520, // model:121
    lastCylinder: 1793, // model:122
    blocksPerTrack: 64, // model:123
    firstBlockOffset: 32, // model:124
    frontDeadBlocks: 0, // model:125
    trackSkew: 10, // model:126
    cylinderSkew: 22, // model:127
    spareTracks: 78, // model:128
    slippedTracks: [1980, 1993, 3505], // model:129-133
  },
  {
    firstCylinder: 1794, // model:137
    lastCylinder: 2050, // model:138
    blocksPerTrack: 56, // model:139
    firstBlockOffset: 30, // model:140
    frontDeadBlocks: 0, // model:141
    trackSkew: 9, // model:142
    cylinderSkew: 19, // model:143
    spareTracks: 65, // model:144
    slippedTracks: [1512, 2506, 3320], // model:145-149
  },
];

/**
 * The HP C2247A preset (2,054,864 blocks, matching model:4).
 *
 * Not used from DiskSim's files: the "Single cylinder / Average / Full strobe seek time"
 * (model:157-159, for other seek types), the scheduler and queue settings (one request at a time
 * here), and the statistics switches.
 *
 * @example
 * ```ts
 * import { HddDiskModel } from "./hdd.ts";
 * import { HP_C2247A } from "./hp_c2247a.ts";
 * const disk = new HddDiskModel(HP_C2247A);
 * console.log(disk.totalBlocks, disk.cylinders, disk.rotationNs); // 2054864 2051 11111111.111111112
 * ```
 */
export const HP_C2247A: HddParams = {
  name: "HP C2247A",
  surfaces: 13, // model:2 (2051 cylinders, model:3, follow from the zones)
  zones: ZONES,
  rpm: 5400, // model:182 (0% rpm error, model:183)
  seek: {
    // "Seek type = hplplus10" (model:156): the first ten seek times, then the HPL equation.
    firstSeeksNs: [
      2_890_000, // model:170
      3_680_000, // model:171
      3_810_000, // model:172
      3_980_000, // model:173
      4_270_000, // model:174
      4_650_000, // model:175
      4_520_000, // model:176
      4_650_000, // model:177
      4_820_000, // model:178
      4_990_000, // model:179
    ],
    hplBoundary: 300, // model:162
    hplSqrtBaseNs: 3_810_000, // model:163
    hplSqrtFactorNs: 330_000, // model:164
    hplLinearBaseNs: 7_750_000, // model:165
    hplLinearFactorNs: 5_900, // model:166 (model:167, -1: no separate single-cylinder time)
    headSwitchNs: 890_000, // model:181
    writeSettleNs: 650_000, // model:160
  },
  minimumWriteSeekNs: 600_000, // specs:80
  controller: {
    readHitOverheadNs: 953_430, // specs:58 (after a write, specs:59, is the same)
    readMissOverheadNs: 558_210, // specs:60 (specs:61 the same)
    writeOverheadNs: 823_910, // specs:64 write miss (specs:62-65 all the same; fast write off, specs:49)
    dataPrepNs: 25_190, // specs:68
    readCompletionNs: 56_650, // specs:66
    writeCompletionNs: 50_450, // specs:67
    firstReselectNs: 162_490, // specs:69
    otherReselectNs: 128_830, // specs:70
    readDisconnectAfterReadNs: 22_660, // specs:71
    readDisconnectAfterWriteNs: 45_510, // specs:72
    writeDisconnectNs: 165_650, // specs:73
    extraWriteDisconnect: true, // specs:74
    extraCommandNs: 642_440, // specs:75
    extraDisconnectNs: 45_510, // specs:76
    extraInterDisconnectNs: 428_850, // specs:77
    extraSecondDisconnectNs: 134_370, // specs:78
    extraSeekDeltaNs: 250_000, // specs:79
  },
  busReadNsPerBlock: 170_100, // parv:93 (bus between controller and disk; specs:5 is 0)
  busWriteNsPerBlock: 186_860, // parv:94
  cache: {
    segments: 2, // specs:34
    segmentBlocks: 256, // specs:36
    readAheadBlocks: 128, // specs:45 (prefetch to segment end, specs:43; minimum 0, specs:44)
    readWatermark: 0.75, // specs:39, by request size (specs:40)
    // DiskSim's rule for drives with extra write disconnects (disk_buffer_block_available): the
    // media write starts once min(request, 10) blocks are buffered, or 15 for requests of 45+.
    writeStartBlocks: 10,
    writeStartBlocksLarge: 15,
    largeWriteBlocks: 45,
  },
};
