import AudioToolbox
import PasserelleDemoKit

/// The new-order alert: a system alert sound (`AudioServicesPlayAlertSound`; an iPhone on
/// silent vibrates instead). Keep the iPad's volume up on a till.
struct SystemSoundAlert: NewOrderAlert {
    /// "new-mail"-like chime (system sound 1005).
    private let sound = SystemSoundID(1005)

    @MainActor
    func newOrderArrived() {
        AudioServicesPlayAlertSound(sound)
    }
}
