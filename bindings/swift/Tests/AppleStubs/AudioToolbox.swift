// A stand-in for Apple's AudioToolbox with the system-sound call the demo app uses, so its sources
// type-check on Linux (ios-demo/check-apple-sources.sh). Not a target; never linked; no behaviour.
public typealias SystemSoundID = UInt32

public func AudioServicesPlayAlertSound(_ inSystemSoundID: SystemSoundID) {}
